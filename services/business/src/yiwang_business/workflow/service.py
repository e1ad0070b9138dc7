"""Rules of workflow definitions: validation, versioning, the built-in default."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from yiwang_business.workflow.errors import InvalidWorkflow, WorkflowEditConflict
from yiwang_business.workflow.models import WorkflowDefinition
from yiwang_business.workflow.repository import DEFAULT_ITEM, WorkflowRepository
from yiwang_business.workflow.schemas import (
    WorkflowBody,
    WorkflowDefinitionSchema,
    WorkflowList,
    WorkflowSnapshot,
    WorkflowStep,
)
from yiwang_common.db import utcnow
from yiwang_common.http.pagination import PageParams

#: 审查 → 决定: what every item gets until an administrator defines something else.
BUILTIN_DEFAULT = WorkflowDefinitionSchema(
    item_code=DEFAULT_ITEM,
    version=0,
    builtin=True,
    steps=[
        WorkflowStep(key="review", name="审查", role="reviewer", kind="review"),
        WorkflowStep(key="decide", name="决定", role="approver", kind="decide"),
    ],
    decision_doc_prefix="行政许可",
)


def to_schema(definition: WorkflowDefinition) -> WorkflowDefinitionSchema:
    """Render a stored definition."""
    return WorkflowDefinitionSchema.model_validate(definition, from_attributes=True)


def check_steps(steps: list[WorkflowStep]) -> None:
    """Refuse duplicate keys, and any 决定 step that is not the last (or a last step that is not one)."""
    keys = [s.key for s in steps]
    if len(set(keys)) != len(keys):
        raise InvalidWorkflow("环节 key 重复 (step keys must be unique)")
    if steps[-1].kind != "decide":
        raise InvalidWorkflow("最后一个环节必须是决定环节 (the last step must be kind 'decide')")
    if any(s.kind == "decide" for s in steps[:-1]):
        raise InvalidWorkflow("只有最后一个环节可以是决定环节 (only the last step may decide)")


#: How long a looked-up definition is reused; edits through this process invalidate at once.
SNAPSHOT_TTL_SECONDS = 5.0


@dataclass(frozen=True)
class CachedSnapshot:
    """A definition as newly accepted cases take it: the model and its stored JSON form."""

    snapshot: WorkflowSnapshot
    document: dict[str, Any]


# Per engine (i.e. per database), item code -> (expiry on the monotonic clock, snapshot).
_snapshots: weakref.WeakKeyDictionary[Engine | Connection, dict[str, tuple[float, CachedSnapshot]]] = (
    weakref.WeakKeyDictionary()
)


def invalidate_snapshots() -> None:
    """Forget every cached definition (any edit may change the default ``*`` every item falls back to)."""
    _snapshots.clear()


def _invalidate_after_commit(_session: Session) -> None:
    invalidate_snapshots()


class WorkflowService:
    """Workflow definitions per item."""

    async def effective(self, session: AsyncSession, *, item_code: str) -> WorkflowDefinitionSchema:
        """Return the definition that applies to an item: its own, else the default."""
        definition = await WorkflowRepository.from_session(session).get_effective(item_code)
        return BUILTIN_DEFAULT if definition is None else to_schema(definition)

    async def snapshot(self, session: AsyncSession, *, item_code: str) -> WorkflowSnapshot:
        """Return the definition a newly accepted case of the item will follow."""
        return (await self.cached_snapshot(session, item_code=item_code)).snapshot

    async def cached_snapshot(self, session: AsyncSession, *, item_code: str) -> CachedSnapshot:
        """Like :meth:`snapshot`, reused for a few seconds; read-mostly, so most cases need no query."""
        bind = session.get_bind()
        per_item = _snapshots.get(bind)
        now = time.monotonic()
        if per_item is not None:
            hit = per_item.get(item_code)
            if hit is not None and hit[0] > now:
                return hit[1]
        schema = await self.effective(session, item_code=item_code)
        snapshot = WorkflowSnapshot.model_validate(schema.model_dump())
        cached = CachedSnapshot(snapshot=snapshot, document=snapshot.model_dump(mode="json"))
        _snapshots.setdefault(bind, {})[item_code] = (now + SNAPSHOT_TTL_SECONDS, cached)
        return cached

    async def list(self, session: AsyncSession, *, page: PageParams) -> WorkflowList:
        """List stored definitions; the built-in default leads while no ``*`` is stored."""
        repo = WorkflowRepository.from_session(session)
        # While no default is stored the built-in one is row 0 of the list, shifting stored rows by one.
        shift = 0 if await repo.has_default() else 1
        offset = max(page.offset - shift, 0)
        limit = page.limit - (shift if page.offset == 0 else 0)
        rows, total = await repo.list(offset=offset, limit=limit)
        items = [to_schema(d) for d in rows]
        if shift and page.offset == 0:
            items.insert(0, BUILTIN_DEFAULT)
        return WorkflowList(items=items, pagination=page.pagination(total + shift))

    async def put(
        self, session: AsyncSession, *, item_code: str, body: WorkflowBody
    ) -> WorkflowDefinitionSchema:
        """Create or replace an item's definition, bumping its version."""
        check_steps(body.steps)
        # Forget cached definitions now and again once the edit is committed (readers in between
        # may have cached the old one).
        invalidate_snapshots()
        event.listen(session.sync_session, "after_commit", _invalidate_after_commit, once=True)
        repo = WorkflowRepository.from_session(session)
        values = body.model_dump(mode="json")
        definition = await repo.get_for_update(item_code)
        try:
            if definition is None:
                definition = await repo.create(
                    WorkflowDefinition(item_code=item_code, version=1, updated_at=utcnow(), **values),
                    flush=True,
                )
            else:
                changes = {**values, "version": definition.version + 1, "updated_at": utcnow()}
                await repo.update(definition, update_dict=changes, flush=True)
        except IntegrityError as exc:
            raise WorkflowEditConflict(f"事项 {item_code} 的流程定义正被同时修改，请重试") from exc
        return to_schema(definition)


workflow_service = WorkflowService()
