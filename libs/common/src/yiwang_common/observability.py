"""Structured JSON logs carrying the request and correlation ids, and the context they come from."""

from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)

_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def current_correlation_id() -> str | None:
    """Return the correlation id (usually a 办件编号) of the work in progress.

    Returns:
        The id, or None outside a request or message.
    """
    return _correlation_id.get()


def current_request_id() -> str | None:
    """Return the id of the HTTP request in progress.

    Returns:
        The id, or None outside a request.
    """
    return _request_id.get()


def current_traceparent() -> str | None:
    """Return the W3C ``traceparent`` of the work in progress.

    Returns:
        The header value, or None.
    """
    return _traceparent.get()


def bind_context(
    *, correlation_id: str | None = None, request_id: str | None = None, traceparent: str | None = None
) -> list[contextvars.Token[str | None]]:
    """Set the ids that logs and new events carry for the current task.

    Args:
        correlation_id: the 办件编号 or a caller-supplied correlation id.
        request_id: the HTTP request id.
        traceparent: the W3C trace context.

    Returns:
        Tokens for :func:`reset_context`.
    """
    return [
        _correlation_id.set(correlation_id),
        _request_id.set(request_id),
        _traceparent.set(traceparent),
    ]


def reset_context(tokens: list[contextvars.Token[str | None]]) -> None:
    """Undo :func:`bind_context`.

    Args:
        tokens: what :func:`bind_context` returned.
    """
    for var, token in zip((_correlation_id, _request_id, _traceparent), tokens, strict=True):
        var.reset(token)


def set_correlation_id(value: str | None) -> None:
    """Replace the correlation id for the rest of the current task (e.g. once a 办件编号 is known).

    Args:
        value: the new correlation id.
    """
    _correlation_id.set(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never raises, because logging must not crash the host."""

    def __init__(self, service: str) -> None:
        """Create the formatter.

        Args:
            service: the service name written into every record.
        """
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as a JSON line.

        Args:
            record: the log record.

        Returns:
            The JSON text.
        """
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in (
            ("correlation_id", _correlation_id.get()),
            ("request_id", _request_id.get()),
        ):
            if value:
                payload[key] = value
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        try:
            return orjson.dumps(payload, default=str).decode()
        except Exception:  # logging must degrade rather than crash the host
            return f'{{"level":"{record.levelname}","message":{record.getMessage()!r}}}'


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record to stderr as JSON lines. Safe to call more than once.

    Args:
        service: the service name written into every record.
        level: the root log level.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
