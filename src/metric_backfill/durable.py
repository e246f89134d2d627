"""Atomic, durable file writes: a file that exists under its name is complete.

The text goes to ``<name>.tmp``, is fsynced, then renamed over the name, and the directory is
fsynced so the rename itself survives a power loss. A crash leaves either the old file or the
new one, never a torn one (a stale ``.tmp`` is overwritten by the next write).
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
