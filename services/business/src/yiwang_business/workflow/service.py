"""Rules of workflow definitions: validation, versioning, the built-in default."""

from __future__ import annotations

import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from yiwang_business.workflow.engine import check
from yiwang_business.workflow.errors import VersionNotDraft, VersionNotFound, WorkflowEditConflict
from yiwang_business.workflow.models import ProcessVersion, WorkflowDefinition, WorkflowMigration
from yiwang_business.workflow.repository import (
    DEFAULT_ITEM,
    MigrationRepository,
    ProcessVersionRepository,
    WorkflowRepository,
)
from yiwang_business.workflow.schemas import (
    ProcessVersionList,
    ProcessVersionSchema,
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
    """Render a stored (published) definition."""
    values = {c.key: getattr(definition, c.key) for c in definition.__table__.c}
    values["gateways"] = values.get("gateways") or []
    return WorkflowDefinitionSchema.model_validate(values)


def version_schema(row: ProcessVersion) -> ProcessVersionSchema:
    """Render one version."""
    return ProcessVersionSchema.model_validate(row, from_attributes=True)


def snapshot_document(item_code: str, version: int, body: WorkflowBody) -> dict[str, Any]:
    """The definition as a case stores it (``business_case.workflow``)."""
    return WorkflowSnapshot.model_validate(
        {**body.model_dump(), "item_code": item_code, "version": version}
    ).model_dump(mode="json")


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
        self, session: AsyncSession, *, item_code: str, body: WorkflowBody, actor: str = "admin"
    ) -> WorkflowDefinitionSchema:
        """Create and publish a new version of an item's definition in one step."""
        check(body)
        row = await self._new_version(session, item_code=item_code, body=body, actor=actor, source="api")
        return await self._publish(session, row)

    async def _new_version(
        self, session: AsyncSession, *, item_code: str, body: WorkflowBody, actor: str, source: str
    ) -> ProcessVersion:
        repo = ProcessVersionRepository.from_session(session)
        head = await WorkflowRepository.from_session(session).get(item_code)
        number = max(await repo.highest(item_code), 0 if head is None else head.version) + 1
        try:
            return await repo.create(
                ProcessVersion(
                    id=uuid.uuid4(),
                    item_code=item_code,
                    version=number,
                    status="draft",
                    definition=body.model_dump(mode="json"),
                    source=source,
                    created_by=actor,
                    created_at=utcnow(),
                    published_at=None,
                ),
                flush=True,
            )
        except IntegrityError as exc:
            raise WorkflowEditConflict(f"事项 {item_code} 的流程定义正被同时修改，请重试") from exc

    async def _publish(self, session: AsyncSession, row: ProcessVersion) -> WorkflowDefinitionSchema:
        """Make a version the item's published one: the head newly accepted cases take."""
        # Forget cached definitions now and again once the edit is committed (readers in between
        # may have cached the old one).
        invalidate_snapshots()
        event.listen(session.sync_session, "after_commit", _invalidate_after_commit, once=True)
        versions = ProcessVersionRepository.from_session(session)
        heads = WorkflowRepository.from_session(session)
        now = utcnow()
        try:
            current = await versions.published(row.item_code)
            if current is not None and current.id != row.id:
                await versions.update(current, update_dict={"status": "superseded"}, flush=True)
            await versions.update(row, update_dict={"status": "published", "published_at": now}, flush=True)
            values = WorkflowBody.model_validate(row.definition).model_dump(mode="json")
            values["flows"] = values.get("flows")
            head = await heads.get_for_update(row.item_code)
            if head is None:
                head = await heads.create(
                    WorkflowDefinition(
                        item_code=row.item_code, version=row.version, updated_at=now, **values
                    ),
                    flush=True,
                )
            else:
                await heads.update(
                    head, update_dict={**values, "version": row.version, "updated_at": now}, flush=True
                )
        except IntegrityError as exc:
            raise WorkflowEditConflict(f"事项 {row.item_code} 的流程定义正被同时修改，请重试") from exc
        return to_schema(head)

    async def create_draft(
        self, session: AsyncSession, *, item_code: str, body: WorkflowBody, actor: str, source: str = "api"
    ) -> ProcessVersionSchema:
        """Store a new draft version (草稿); it runs nothing until published."""
        check(body)
        return version_schema(
            await self._new_version(session, item_code=item_code, body=body, actor=actor, source=source)
        )

    async def _draft(self, session: AsyncSession, item_code: str, version: int) -> ProcessVersion:
        row = await ProcessVersionRepository.from_session(session).get_version(item_code, version, lock=True)
        if row is None:
            raise VersionNotFound(f"事项 {item_code} 没有版本 {version}")
        if row.status != "draft":
            raise VersionNotDraft(
                f"版本 {version} 已{'发布' if row.status == 'published' else '停用'}，不能修改"
            )
        return row

    async def update_draft(
        self, session: AsyncSession, *, item_code: str, version: int, body: WorkflowBody
    ) -> ProcessVersionSchema:
        """Replace a draft's definition."""
        check(body)
        row = await self._draft(session, item_code, version)
        repo = ProcessVersionRepository.from_session(session)
        await repo.update(row, update_dict={"definition": body.model_dump(mode="json")}, flush=True)
        return version_schema(row)

    async def publish(self, session: AsyncSession, *, item_code: str, version: int) -> ProcessVersionSchema:
        """Publish a draft: new cases follow it; running cases keep theirs until migrated."""
        row = await self._draft(session, item_code, version)
        check(WorkflowBody.model_validate(row.definition))
        await self._publish(session, row)
        return version_schema(row)

    async def versions(self, session: AsyncSession, *, item_code: str) -> ProcessVersionList:
        """Every version of an item, newest first."""
        rows = await ProcessVersionRepository.from_session(session).for_item(item_code)
        return ProcessVersionList(items=[version_schema(r) for r in rows])

    async def version(self, session: AsyncSession, *, item_code: str, version: int) -> ProcessVersionSchema:
        """One version of an item."""
        row = await ProcessVersionRepository.from_session(session).get_version(item_code, version)
        if row is None:
            raise VersionNotFound(f"事项 {item_code} 没有版本 {version}")
        return version_schema(row)

    async def published_document(
        self, session: AsyncSession, *, item_code: str, version: int
    ) -> dict[str, Any]:
        """The snapshot of a published version, as migrated cases will store it."""
        row = await ProcessVersionRepository.from_session(session).get_version(item_code, version)
        if row is None or row.status != "published":
            raise VersionNotFound(f"事项 {item_code} 没有已发布的版本 {version}")
        return snapshot_document(item_code, version, WorkflowBody.model_validate(row.definition))

    async def record_migration(self, session: AsyncSession, migration: WorkflowMigration) -> None:
        """Log a migration of running cases (版本迁移记录)."""
        await MigrationRepository.from_session(session).add(migration)


workflow_service = WorkflowService()
