"""Small file-system steps the node's durable files share."""

from __future__ import annotations

import os


def fsync_dir(path: str) -> None:
    """Make the entries of the directory at `path` durable: a file created, renamed or
    removed there survives a power cut only once its directory is synced."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
