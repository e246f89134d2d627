"""The ``metric-backfill`` command: its signals are set before the product is imported.

Importing the command line (Polars, Arrow, every package) takes about half a second; an
interrupt or a stop in that time would end it by Python's traceback or by the signal. This
module imports nothing heavy, so from the interpreter's start the command ends the same way
as later on: one line, exit 130. Nothing has been read or written yet."""

from __future__ import annotations

import signal
import sys


def stops_as_interrupts() -> None:
    """SIGTERM and SIGHUP (a service manager, a timeout, a closed terminal) end every command
    as Ctrl-C does; ``run`` sets its drain on top."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)


def main() -> None:
    stops_as_interrupts()
    try:
        from .cli import main as command_line
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        raise SystemExit(130) from None
    command_line()
