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


def setup_logging(as_json: bool, moniker: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(HEIGHT)
    if as_json:
        handler.setFormatter(JsonFormatter(moniker))
    else:
        handler.setFormatter(logging.Formatter(
            f"%(asctime)s %(levelname)s {moniker} h=%(height)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
