"""The CloudEvents-shaped envelope every event travels in, and the base of every payload (pydantic only)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


SUBJECT_PATTERN = re.compile(r"^yiwang\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[0-9]+$")


class EventData(BaseModel):
    """Base of every event payload in the contracts.

    Subclasses set ``subject`` to ``yiwang.<service>.<aggregate>.<event>.v<major>``, the
    event name in past tense. Within a major version only optional fields may be added;
    consumers ignore fields they do not know (tolerant reader).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    subject: ClassVar[str]

    @classmethod
    def event_type(cls) -> str:
        """Return the CloudEvents ``type``: reverse-DNS prefix plus the subject.

        Returns:
            e.g. ``cn.yiwang.management.case.accepted.v1``.
        """
        return "cn." + cls.subject

    @classmethod
    def producer(cls) -> str:
        """Return the producing service's token in the subject.

        Returns:
            e.g. ``management``.
        """
        return cls.subject.split(".")[1]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        subject = cls.__dict__.get("subject")
        if subject is not None and not SUBJECT_PATTERN.match(subject):
            raise ValueError(
                f"{cls.__name__}.subject {subject!r} is not yiwang.<service>.<aggregate>.<event>.v<N>"
            )


class EventEnvelope(BaseModel):
    """CloudEvents 1.0 attributes plus our extensions ``correlationid`` and ``traceparent``.

    It travels as the JSON body of the NATS message (structured mode); ``id`` is also sent
    as the ``Nats-Msg-Id`` header so JetStream drops re-sends inside its duplicate window.
    """

    model_config = ConfigDict(extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str = Field(examples=["urn:yiwang:530428:management"])
    type: str = Field(examples=["cn.yiwang.management.case.accepted.v1"])
    subject: str | None = Field(
        default=None, description="The aggregate the event is about, e.g. a 办件编号."
    )
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str | None = Field(default=None, description="The 办件编号 where there is one.")
    traceparent: str | None = None
    data: dict[str, Any]

    @property
    def nats_subject(self) -> str:
        """Return the NATS subject this event is published on.

        Returns:
            The subject derived from ``type``.
        """
        return self.type.removeprefix("cn.")
