"""An interrupt while the command line is still starting (importing Polars, Arrow, the packages:
about half a second) ends it like any other: one line, exit 130, no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "metric-backfill"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_while_the_command_line_starts_ends_it_in_one_line(sig):
    proc = subprocess.Popen([str(SCRIPT), "list"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(0.15)  # past the interpreter's own start, inside the product's imports
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.strip()) == (130, "error: interrupted")
