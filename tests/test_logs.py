"""The daemon's log handler: a line that cannot be written is dropped quietly, any other
failure to log is still reported."""

from __future__ import annotations

import errno
import io
import logging

import pytest

from node.daemon.logs import StderrHandler


class FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("orechain.net", logging.INFO, __file__, 1, msg, args, None)


def test_a_line_that_cannot_be_written_is_dropped_without_a_traceback(
        capsys: pytest.CaptureFixture[str]) -> None:
    handler = StderrHandler()
    handler.setStream(FullDisk())
    handler.handle(_record("sync from %s stopped: %s", "ab12", "timeout"))
    assert capsys.readouterr().err == ""


def test_a_message_that_does_not_format_is_still_reported(
        capsys: pytest.CaptureFixture[str]) -> None:
    handler = StderrHandler()
    handler.setStream(io.StringIO())
    handler.handle(_record("two values %s %s", "only one"))
    assert "--- Logging error ---" in capsys.readouterr().err
