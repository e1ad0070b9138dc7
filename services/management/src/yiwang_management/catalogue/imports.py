"""Spreadsheet import and export of the catalogue (导入导出), through the same rules as the API.

An import validates the whole file first. With any error nothing is imported unless the caller
forces it, in which case the valid rows are. Each row then goes through the workflow: the
centre may import any body's rows (and create missing 目录清单 entries), a body's staff only
their own rows. A row whose content is already in force or in the open draft changes nothing,
so importing the same file twice is harmless. With ``publish`` the centre approves and
publishes each new version at once (the initial load of a province's lists).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.db import utcnow
from yiwang_common.http import Problem
from yiwang_management.catalogue import service, spreadsheet
from yiwang_management.catalogue.errors import EntryNotFound, NotOwner, VersionNotFound, VersionStateConflict
from yiwang_management.catalogue.models import (
    APPROVED,
    DRAFT,
    PUBLISHED,
    CatalogueEntry,
    CatalogueImport,
    ItemVersion,
)
from yiwang_management.catalogue.repository import (
    CatalogueEntryRepository,
    CatalogueImportRepository,
    ItemVersionRepository,
)
from yiwang_management.catalogue.schemas import ImplementationContent, VersionCreate
from yiwang_management.catalogue.spreadsheet import ParsedFile, ParsedRow, RowError

#: Version elements the template has no column for, carried over from the version a row updates.
KEPT = ("form_schema", "other_elements")
READERS = {"xlsx": spreadsheet.read_xlsx, "csv": spreadsheet.read_csv}


def parse(file_format: str, data: bytes) -> ParsedFile:
    """Validate a file of the template."""
    return READERS[file_format](data)


async def _import_row(
    session: AsyncSession, row: ParsedRow, principal: Principal, *, publish: bool, source: str
) -> str:
    """Bring one row into the catalogue; returns created / updated / unchanged (+ published)."""
    centre = service.is_centre(principal)
    org_code = row.content.implementing_org.code
    if not centre and principal.org_code != org_code:
        raise NotOwner("只能导入本单位的实施清单")
    if publish and not centre:
        raise NotOwner("直接发布须由政务服务管理机构（中心管理员）导入")
    if await service.existing_entry(session, row.entry) is None:
        if not centre:
            raise EntryNotFound(f"基本编码 {row.entry.basic_code} 不在目录清单中，须先由中心编制")
        await service.create_entry(session, row.entry, principal)
    owner = principal.model_copy(update={"org_code": org_code})
    versions = ItemVersionRepository.from_session(session)
    published = await versions.published(row.item_code)
    open_version = await versions.open_version(row.item_code)
    implementation = _kept(row, open_version or published)
    content = implementation.model_dump(mode="json")
    if open_version is not None and open_version.content == content:
        outcome, version = "unchanged", open_version
    elif open_version is None and published is not None and published.content == content:
        return "unchanged"
    elif open_version is not None:
        if open_version.status != DRAFT:
            raise VersionStateConflict(f"版本 {open_version.version} 正在审核，不能用导入覆盖")
        version = await service.update_draft(
            session, row.item_code, open_version.version, implementation, owner
        )
        outcome = "updated"
    else:
        body = VersionCreate(item_code=row.item_code, content=implementation)
        version = await service.create_version(session, body, owner)
        outcome = "created"
    if publish:
        await versions.update(
            version, update_dict={"status": APPROVED, "approved_by": principal.sub}, flush=True
        )
        await service.publish(session, row.item_code, version.version, principal, source=source)
        return outcome + "+published"
    return outcome


def _kept(row: ParsedRow, prior: ItemVersion | None) -> ImplementationContent:
    """The row's content plus what the template cannot carry, kept from the version it updates."""
    if prior is None:
        return row.content
    kept = {k: prior.content.get(k) for k in KEPT if not getattr(row.content, k) and prior.content.get(k)}
    return row.content.model_copy(update=kept)


@dataclass
class _Batch:
    """The rows settled without a query each: new drafts inserted together, the rest left over."""

    entries: dict[str, CatalogueEntry] = field(default_factory=dict)
    versions: list[ItemVersion] = field(default_factory=list)
    unchanged: int = 0
    slow: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


async def _batch(
    session: AsyncSession, rows: Sequence[ParsedRow], principal: Principal, *, publish: bool
) -> _Batch:
    """Decide every row from three prefetching queries; rows that change an open draft or are
    published at once are left to the per-row path (``slow``), which enforces the same rules."""
    batch = _Batch()
    centre = service.is_centre(principal)
    codes = [r.item_code for r in rows]
    versions = ItemVersionRepository.from_session(session)
    entries = await CatalogueEntryRepository.from_session(session).get_many(
        list({r.entry.basic_code for r in rows})
    )
    current: dict[str, dict[str, ItemVersion]] = {}
    for version in await versions.current_for(codes):
        kind = "published" if version.status == PUBLISHED else "open"
        current.setdefault(version.item_code, {})[kind] = version
    latest = await versions.latest_for(codes)
    now = utcnow()

    def refuse(row: ParsedRow, reason: str) -> None:
        batch.errors.append(RowError(spreadsheet.ITEM_SHEET, row.row, "", reason))

    for row in rows:
        org_code = row.content.implementing_org.code
        if not centre and principal.org_code != org_code:
            refuse(row, "只能导入本单位的实施清单")
            continue
        if publish and not centre:
            refuse(row, "直接发布须由政务服务管理机构（中心管理员）导入")
            continue
        values = row.entry.model_dump(mode="json")
        entry = entries.get(row.entry.basic_code) or batch.entries.get(row.entry.basic_code)
        if entry is None:
            if not centre:
                refuse(row, f"基本编码 {row.entry.basic_code} 不在目录清单中，须先由中心编制")
                continue
            batch.entries[row.entry.basic_code] = CatalogueEntry(**values, created_at=now)
        elif {k: getattr(entry, k) for k in values} != values:
            refuse(row, f"基本编码 {row.entry.basic_code} 已用于“{entry.name}”，与所填内容不一致")
            continue
        if row.item_code in latest and latest[row.item_code][1] != org_code:
            refuse(row, "实施编码已属于另一实施主体")
            continue
        held = current.get(row.item_code, {})
        open_version, published = held.get("open"), held.get("published")
        content = _kept(row, open_version or published).model_dump(mode="json")
        if not publish and open_version is not None and open_version.content == content:
            batch.unchanged += 1
        elif open_version is None and published is not None and published.content == content:
            batch.unchanged += 1
        elif publish or open_version is not None:
            batch.slow.append(row)
        else:
            number = latest.get(row.item_code, (0, ""))[0] + 1
            latest[row.item_code] = (number, org_code)
            batch.versions.append(
                ItemVersion(
                    item_code=row.item_code,
                    version=number,
                    basic_code=row.entry.basic_code,
                    status=DRAFT,
                    org_code=org_code,
                    region_code=row.content.region_code,
                    content=content,
                    note="",
                    created_by=principal.sub,
                    created_at=now,
                )
            )
            # A second row of the same item in one file would be a duplicate; parse refused it.
            current[row.item_code] = {"open": batch.versions[-1]}
    return batch


async def run_import(
    session: AsyncSession,
    *,
    filename: str,
    file_format: str,
    data: bytes,
    principal: Principal,
    force: bool,
    publish: bool,
    source: str,
) -> CatalogueImport:
    """Validate and (unless there are errors and ``force`` is off) import a file; returns the job."""
    started = utcnow()
    parsed = parse(file_format, data)
    errors: list[RowError] = list(parsed.errors)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "published": 0}
    if not errors or force:
        batch = await _batch(session, parsed.rows, principal, publish=publish)
        errors += batch.errors
        counts["unchanged"] += batch.unchanged
        counts["created"] += len(batch.versions)
        try:
            async with session.begin_nested():
                session.add_all([*batch.entries.values(), *batch.versions])
                await session.flush()
        except IntegrityError as exc:
            raise VersionStateConflict("导入期间有人修改了同一事项，请重新导入") from exc
        for row in batch.slow:
            try:
                async with session.begin_nested():
                    outcome = await _import_row(session, row, principal, publish=publish, source=source)
            except Problem as problem:
                errors.append(RowError(spreadsheet.ITEM_SHEET, row.row, "", problem.detail or problem.title))
                continue
            kind, _, published = outcome.partition("+")
            counts[kind] += 1
            counts["published"] += bool(published)
    if errors and not force:
        status = "rejected"
    else:
        status = "imported_with_errors" if errors else "imported"
    job = CatalogueImport(
        id=uuid.uuid4(),
        filename=filename,
        file_format=file_format,
        sha256=hashlib.sha256(data).hexdigest(),
        status=status,
        total_rows=parsed.total,
        valid_rows=len(parsed.rows),
        errors=[asdict(e) for e in sorted(errors, key=lambda e: (e.sheet, e.row))],
        forced=force,
        created_by=principal.sub,
        created_at=started,
        finished_at=utcnow(),
        **counts,
    )
    return await CatalogueImportRepository.from_session(session).create(job, flush=True)


async def get_import(session: AsyncSession, job_id: uuid.UUID, principal: Principal) -> CatalogueImport:
    """An import job, to the one who ran it or the centre."""
    job = await CatalogueImportRepository.from_session(session).get_by_id(job_id)
    if job is None or not (service.is_centre(principal) or job.created_by == principal.sub):
        raise VersionNotFound("导入任务不存在")
    return job


async def export_rows(session: AsyncSession) -> Sequence[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The versions in force as template rows (实施编码, entry, content)."""
    entries = {e.basic_code: e for e in await CatalogueEntryRepository.from_session(session).list_all()}
    rows = []
    for version in await ItemVersionRepository.from_session(session).all_published():
        entry = entries[version.basic_code]
        entry_values = {
            "name": entry.name,
            "item_type": entry.item_type,
            "legal_basis": entry.legal_basis,
            "parent_basic_code": entry.parent_basic_code,
        }
        rows.append((version.item_code, entry_values, version.content))
    return rows
