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


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:     # a short write (a nearly full disk) goes on where it stopped
        view = view[os.write(fd, view):]


def replace_durably(path: str, tmp: str, directory: str, data: bytes) -> None:
    """Make the file at `path` hold `data`, all of it or none after a crash: written
    to `tmp` (in `directory`, beside `path`) and synced, renamed over `path`, and the
    rename synced."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(directory)
