"""Logging setup: readable lines by default, one JSON object per line with --log-json."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable


class JsonFormatter(logging.Formatter):
    def __init__(self, moniker: str) -> None:
        super().__init__()
        self.moniker = moniker

    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts_ms": int(record.created * 1000), "level": record.levelname.lower(),
               "node": self.moniker, "logger": record.name, "msg": record.getMessage()}
        for key in ("height", "peer"):
            if hasattr(record, key):
                doc[key] = getattr(record, key)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc)


class HeightFilter(logging.Filter):
    """Stamps every record with the node's current height, so each line says where the
    node was when it happened."""

    def __init__(self) -> None:
        super().__init__()
        self.height: Callable[[], int] = lambda: 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "height"):
            record.height = self.height()
        return True


HEIGHT = HeightFilter()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines to stderr. A line that cannot be written (stderr redirected to a file
    on a full disk) is dropped: logging's default reports the failure as a traceback on
    that same stream, one per line logged while the disk is full. Any other failure to
    log (a message that does not format) is still reported."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def handleError(self, record: logging.LogRecord) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handleError(record)


def setup_logging(as_json: bool, moniker: str, level: int = logging.INFO) -> None:
    handler = StderrHandler()
    handler.addFilter(HEIGHT)
    if as_json:
        handler.setFormatter(JsonFormatter(moniker))
    else:
        handler.setFormatter(logging.Formatter(
            f"%(asctime)s %(levelname)s {moniker} h=%(height)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
