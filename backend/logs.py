"""One JSON line per log record; request lines carry method, path, status, ms, request id, actor."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

_FIELDS = ("method", "path", "status", "ms", "request_id", "actor_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str) -> None:
    """Route the app's loggers to stderr as JSON (idempotent)."""
    root = logging.getLogger("backend")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = True
    # The development server's own request lines carry the query string (an ID number looked up by
    # ?subject=, a cursor): the app writes its own line per request, with the path only.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
