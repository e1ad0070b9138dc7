"""One JetStream stream per producing service."""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from yiwang_common.config import NatsSettings

log = logging.getLogger(__name__)


def stream_name(service: str) -> str:
    """Return the stream that holds one service's events.

    Args:
        service: the producer token, e.g. ``management``.

    Returns:
        e.g. ``YIWANG_MANAGEMENT``.
    """
    return f"YIWANG_{service.upper()}"


def stream_subjects(service: str) -> list[str]:
    """Return the subjects a service's stream captures.

    Args:
        service: the producer token.

    Returns:
        ``["yiwang.<service>.>"]``.
    """
    return [f"yiwang.{service}.>"]


async def ensure_stream(js: JetStreamContext, service: str, settings: NatsSettings) -> None:
    """Create the service's stream, or bring its configuration up to date.

    Idempotent: producers call it for their own stream and consumers for the streams they
    read, so start-up order between services does not matter.

    Args:
        js: a JetStream context.
        service: the producer token.
        settings: replicas and duplicate window.
    """
    config = StreamConfig(
        name=stream_name(service),
        subjects=stream_subjects(service),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.stream_replicas,
        duplicate_window=float(settings.duplicate_window_seconds),
        max_age=float(90 * 24 * 3600),
    )
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        try:
            await js.add_stream(config)
            log.info("stream created", extra={"stream": config.name})
        except BadRequestError:
            # Another service created it between our look and our add.
            await js.stream_info(config.name or "")
        return
    await js.update_stream(config)
