"""Dead letters (死信): events parked by the relay or a consumer, and how they are seen and replayed.

Every service has the same three ways in: the admin endpoints (``/api/v1/admin/dead-letters``),
the metric ``yiwang_dead_letters`` on ``/metrics``, and the command line
(``python -m yiwang_<svc>.cli dead-letters list|replay ID|replay --all``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import ROLE_ADMIN, ROLE_SUPERVISOR, Principal, require_role
from yiwang_common.db.types import utcnow
from yiwang_common.events.consumer import Subscription, apply_events, parse_message
from yiwang_common.events.outbox import _DIRTY_KEY, MessagingTables
from yiwang_common.http.problems import Forbidden, NotFound, Unauthorized, problem_responses

Kind = Literal["outgoing", "incoming"]
KINDS: tuple[Kind, ...] = ("outgoing", "incoming")
_PREVIEW = 2000


class DeadLetterNotFound(NotFound):
    """No dead letter with that id."""

    code = "dead_letter_not_found"
    title = "死信不存在"


class DeadLetter(BaseModel):
    """一条死信 An event that could not be published (``outgoing``) or handled (``incoming``)."""

    id: int
    kind: Kind = Field(description="outgoing: 发布失败; incoming: 处理失败")
    consumer: str | None = Field(default=None, description="消费者 (durable) for incoming")
    subject: str = Field(examples=["yiwang.gateway.application.submitted.v1"])
    event_id: uuid.UUID | None = None
    error: str = Field(description="最后一次失败的原因")
    attempts: int = Field(description="失败次数")
    first_seen_at: datetime = Field(description="事件写入发件箱或首次投递的时间")
    parked_at: datetime = Field(description="转入死信的时间")
    replayed_at: datetime | None = Field(default=None, description="重放的时间")
    payload_bytes: int
    payload_preview: str = Field(description=f"消息体的前 {_PREVIEW} 个字符")

    @classmethod
    def from_row(cls, row: Row[Any]) -> DeadLetter:
        """Build the view of one row."""
        payload: bytes = row.payload
        return cls(
            id=row.id,
            kind=row.kind,
            consumer=row.consumer,
            subject=row.subject,
            event_id=row.event_id,
            error=row.error,
            attempts=row.attempts,
            first_seen_at=row.first_seen_at,
            parked_at=row.parked_at,
            replayed_at=row.replayed_at,
            payload_bytes=len(payload),
            payload_preview=payload[:_PREVIEW].decode("utf-8", errors="replace"),
        )


class DeadLetterList(BaseModel):
    """死信列表 Dead letters, newest first."""

    items: list[DeadLetter]
    parked: dict[str, int] = Field(description="尚未重放的死信数 by kind")


class ReplayResult(BaseModel):
    """重放结果 What a replay did."""

    id: int
    status: Literal["replayed", "already_replayed", "failed"] = Field(
        description="replayed: 已重新发布或处理; already_replayed: 之前已重放; failed: 仍然失败, 死信保留"
    )
    error: str | None = None


@dataclass(frozen=True)
class DeadLetters:
    """One service's dead letters: the tables and the subscriptions that re-handle incoming ones."""

    sessionmaker: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    subscriptions: Sequence[Subscription] = ()

    async def counts(self) -> dict[str, int]:
        """Return how many dead letters of each kind wait for a replay."""
        t = self.tables.dead_letter
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(t.c.kind, func.count()).where(t.c.replayed_at.is_(None)).group_by(t.c.kind)
            )
            found = {kind: int(n) for kind, n in rows.all()}
        return {kind: found.get(kind, 0) for kind in KINDS}

    async def find(
        self, *, kind: Kind | None = None, include_replayed: bool = False, limit: int = 100
    ) -> list[DeadLetter]:
        """Return dead letters, newest first."""
        t = self.tables.dead_letter
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(t.c.kind == kind)
        if not include_replayed:
            query = query.where(t.c.replayed_at.is_(None))
        async with self.sessionmaker() as session:
            return [DeadLetter.from_row(r) for r in (await session.execute(query)).all()]

    async def get(self, dead_letter_id: int) -> DeadLetter:
        """Return one dead letter.

        Raises:
            DeadLetterNotFound: if there is none with that id.
        """
        t = self.tables.dead_letter
        async with self.sessionmaker() as session:
            row = (await session.execute(select(t).where(t.c.id == dead_letter_id))).one_or_none()
        if row is None:
            raise DeadLetterNotFound(f"死信 {dead_letter_id} 不存在")
        return DeadLetter.from_row(row)

    async def replay_all(self) -> list[ReplayResult]:
        """Replay every dead letter not replayed yet, oldest first."""
        t = self.tables.dead_letter
        async with self.sessionmaker() as session:
            ids = (
                await session.execute(select(t.c.id).where(t.c.replayed_at.is_(None)).order_by(t.c.id))
            ).scalars()
            pending = list(ids)
        return [await self.replay(i) for i in pending]

    async def replay(self, dead_letter_id: int) -> ReplayResult:
        """Publish an outgoing dead letter again, or handle an incoming one again.

        Idempotent: outgoing events go back to the outbox under their own event id, so consumers
        that had seen them drop them through their inbox; incoming ones are handled through the
        consumer's inbox in the same unit of work that marks the dead letter replayed.

        Raises:
            DeadLetterNotFound: if there is none with that id.
        """
        t = self.tables.dead_letter
        error: str | None = None
        async with self.sessionmaker() as session, session.begin():
            row = (
                await session.execute(select(t).where(t.c.id == dead_letter_id).with_for_update())
            ).one_or_none()
            if row is None:
                raise DeadLetterNotFound(f"死信 {dead_letter_id} 不存在")
            if row.replayed_at is not None:
                return ReplayResult(id=dead_letter_id, status="already_replayed")
            try:
                async with session.begin_nested():
                    if row.kind == "outgoing":
                        await self._republish(session, row)
                    else:
                        await self._rehandle(session, row)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:4000]
                await session.execute(
                    update(t).where(t.c.id == dead_letter_id).values(attempts=t.c.attempts + 1, error=error)
                )
            else:
                await session.execute(update(t).where(t.c.id == dead_letter_id).values(replayed_at=utcnow()))
        if error is not None:
            return ReplayResult(id=dead_letter_id, status="failed", error=error)
        return ReplayResult(id=dead_letter_id, status="replayed")

    async def _republish(self, session: AsyncSession, row: Row[Any]) -> None:
        o = self.tables.outbox
        await session.execute(
            postgresql.insert(o)
            .values(
                event_id=row.event_id,
                subject=row.subject,
                payload=row.payload,
                created_at=utcnow(),
                attempts=0,
            )
            # Still in the outbox (a replay racing the relay): it goes out once all the same.
            .on_conflict_do_nothing(index_elements=[o.c.event_id])
        )
        # Wakes this process's relay on commit; a relay in another process finds the row on its next poll.
        session.info[_DIRTY_KEY] = True

    async def _rehandle(self, session: AsyncSession, row: Row[Any]) -> None:
        sub = next((s for s in self.subscriptions if s.durable == row.consumer), None)
        if sub is None:
            raise LookupError(f"no consumer {row.consumer!r} in this service")
        try:
            parsed = parse_message(row.subject, row.payload, sub.by_subject)
        except (ValueError, ValidationError, KeyError) as exc:
            raise ValueError(f"消息仍无法解析 (still unparseable): {exc}") from exc
        await apply_events(session, self.tables.inbox, sub.durable, [parsed])


async def _dead_letters(request: Request) -> DeadLetters:
    dead_letters: DeadLetters = request.app.state.dead_letters
    return dead_letters


Operator = Annotated[Principal, require_role(ROLE_ADMIN, ROLE_SUPERVISOR)]
Store = Annotated[DeadLetters, Depends(_dead_letters)]
DeadLetterId = Annotated[int, Path(ge=1, le=2**63 - 1, description="死信编号")]


def admin_router() -> APIRouter:
    """Build ``/admin/dead-letters``: operators (系统管理员, 电子监察) see and replay dead letters."""
    router = APIRouter(prefix="/admin/dead-letters", tags=["admin"])

    @router.get(
        "",
        summary="死信列表 List dead letters",
        response_model=DeadLetterList,
        responses=problem_responses(Unauthorized, Forbidden),
    )
    async def list_dead_letters(
        store: Store,
        _operator: Operator,
        kind: Annotated[Kind | None, Query(description="outgoing 或 incoming")] = None,
        include_replayed: Annotated[bool, Query(description="也列出已重放的")] = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> DeadLetterList:
        """未能发布或处理的事件 Events parked after bounded retries; needs the admin or supervisor role."""
        items = await store.find(kind=kind, include_replayed=include_replayed, limit=limit)
        return DeadLetterList(items=items, parked=await store.counts())

    @router.get(
        "/{dead_letter_id}",
        summary="死信详情 Get a dead letter",
        response_model=DeadLetter,
        responses=problem_responses(Unauthorized, Forbidden, DeadLetterNotFound),
    )
    async def get_dead_letter(dead_letter_id: DeadLetterId, store: Store, _operator: Operator) -> DeadLetter:
        """一条死信 One dead letter; needs the admin or supervisor role."""
        return await store.get(dead_letter_id)

    @router.post(
        "/{dead_letter_id}/replay",
        summary="重放死信 Replay a dead letter",
        response_model=ReplayResult,
        responses=problem_responses(Unauthorized, Forbidden, DeadLetterNotFound),
    )
    async def replay_dead_letter(
        dead_letter_id: DeadLetterId, store: Store, _operator: Operator
    ) -> ReplayResult:
        """重新发布或重新处理 Publish (outgoing) or handle (incoming) the event again, idempotently.

        A replay that fails again keeps the dead letter, with the new error and one more attempt.
        """
        return await store.replay(dead_letter_id)

    return router


def metrics_router(service: str) -> APIRouter:
    """Build ``GET /metrics``: Prometheus text exposition of the service's dead letters."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics(store: Store) -> Response:
        registry = CollectorRegistry()
        gauge = Gauge(
            "yiwang_dead_letters",
            "Dead letters (死信) waiting for a replay",
            ["service", "kind"],
            registry=registry,
        )
        for kind, n in (await store.counts()).items():
            gauge.labels(service=service, kind=kind).set(n)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
