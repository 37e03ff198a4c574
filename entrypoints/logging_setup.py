"""Logs: JSON lines on stdout (or text for humans), every line carrying the current request id."""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

from domain.redaction import redact
from entrypoints.http import context

LogFormat = Literal["json", "text"]
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Stamps the current request id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get()
        # uvicorn adds an ANSI-coloured copy of some messages; logs keep the plain one.
        record.__dict__.pop("color_message", None)
        return True


class RedactingFilter(logging.Filter):
    """Last line of defence: passwords and tokens in URLs never reach the log, whoever logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = redact(value)
        return True


class RedactingJsonFormatter(JsonFormatter):
    """JSON lines; tracebacks are redacted too, since exception texts may quote URLs."""

    def formatException(self, ei: Any) -> str | list[str]:  # type: ignore[override]  # as its base declares
        formatted = super().formatException(ei)
        return [redact(line) for line in formatted] if isinstance(formatted, list) else redact(formatted)


class TextFormatter(logging.Formatter):
    """One readable line: time, level, logger, request id, message, then the structured fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{key}={value!r}" for key, value in extras.items())
        return line


def configure_logging(log_format: LogFormat, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
    if log_format == "json":
        handler.setFormatter(
            RedactingJsonFormatter(
                "{levelname}{name}{message}{request_id}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",  # ISO 8601 in UTC
            )
        )
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Requests are logged by RequestContextMiddleware, with their ids; uvicorn's access log would repeat them.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request line, target URL included; deliveries are logged by outcome instead.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic narrates every step of a migration; the store logs the revisions it moved between.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
