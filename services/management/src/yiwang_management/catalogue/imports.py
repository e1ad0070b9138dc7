"""Spreadsheet import and export of the catalogue (导入导出), through the same rules as the API.

An import is a job (导入任务) that runs in the background (``catalogue.worker``): the request
stores the file and answers 202. The job first validates every row — the template's rules and
the workflow's (who may import which rows, whether a 目录清单 entry exists and says the same) —
and stores every error with sheet, row, column and reason. With any error nothing is imported
unless the caller forced it, in which case the valid rows are. Then it writes the rows in
batches, each batch one unit of work that also advances the job's counters, so a worker that
dies mid-import leaves a job that another resumes after the last committed batch.

A row whose content is already in force or in the open draft changes nothing, so importing the
same file twice is harmless; a row whose cells hash to the hash stored with its version
(``item_version.source_hash``) is not even validated again. With ``publish`` the centre
approves and publishes each new version at once (the initial load of a province's lists).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.db import session_scope, utcnow
from yiwang_common.http import Problem
from yiwang_management.catalogue import service, spreadsheet
from yiwang_management.catalogue.errors import EntryNotFound, NotOwner, VersionNotFound, VersionStateConflict
from yiwang_management.catalogue.models import (
    APPROVED,
    DRAFT,
    IMPORT_DONE,
    IMPORT_DONE_WITH_ERRORS,
    IMPORT_QUEUED,
    IMPORT_REJECTED,
    PHASE_DONE,
    PHASE_IMPORTING,
    PHASE_VALIDATING,
    PUBLISHED,
    CatalogueImport,
    CatalogueImportError,
    CatalogueImportFile,
    ItemVersion,
)
from yiwang_management.catalogue.repository import (
    CatalogueEntryRepository,
    CatalogueImportErrorRepository,
    CatalogueImportFileRepository,
    CatalogueImportRepository,
    ItemVersionRepository,
)
from yiwang_management.catalogue.schemas import ImplementationContent, VersionCreate
from yiwang_management.catalogue.spreadsheet import ParsedFile, ParsedRow, Progress, RowError

log = logging.getLogger(__name__)

#: Version elements the template has no column for, carried over from the version a row updates.
KEPT = ("form_schema", "other_elements")
READERS = {"xlsx": spreadsheet.read_xlsx, "xls": spreadsheet.read_xlsx, "csv": spreadsheet.read_csv}
#: Rows written per unit of work: the job's progress moves (and a resumed job restarts) per batch.
BATCH_ROWS = 1_000


def parse(file_format: str, data: bytes) -> ParsedFile:
    """Validate a file of the template."""
    return READERS[file_format](data, None)


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
    implementation, content = _kept(row, open_version or published)
    if open_version is not None and open_version.content == content:
        outcome, version = "unchanged", open_version
    elif open_version is None and published is not None and published.content == content:
        await versions.update(published, update_dict={"source_hash": row.source_hash})
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
    await versions.update(version, update_dict={"source_hash": row.source_hash}, flush=True)
    if publish:
        await versions.update(
            version, update_dict={"status": APPROVED, "approved_by": principal.sub}, flush=True
        )
        await service.publish(session, row.item_code, version.version, principal, source=source)
        return outcome + "+published"
    return outcome


def _kept(row: ParsedRow, prior: ItemVersion | None) -> tuple[ImplementationContent, dict[str, Any]]:
    """The row's content plus what the template cannot carry, kept from the version it updates."""
    if prior is None:
        return row.content, row.content_json
    kept = {k: prior.content.get(k) for k in KEPT if not getattr(row.content, k) and prior.content.get(k)}
    if not kept:
        return row.content, row.content_json
    content = row.content.model_copy(update=kept)
    return content, content.model_dump(mode="json")


@dataclass
class _Batch:
    """The rows settled without a query each: new drafts inserted together, the rest left over."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    slow: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


async def _batch(
    session: AsyncSession, rows: Sequence[ParsedRow], principal: Principal, *, publish: bool
) -> _Batch:
    """Decide every row from three prefetching queries; rows that change an open draft or are
    published at once are left to the per-row path (``slow``), which enforces the same rules.

    Reads only: the validation phase runs it over the whole file to find the workflow's
    refusals before anything is written, the writing phase again per batch.
    """
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
    opened: set[str] = set()
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
        values = row.entry_json
        entry = entries.get(row.entry.basic_code)
        if entry is None:
            known = batch.entries.get(row.entry.basic_code)
            if known is None and not centre:
                refuse(row, f"基本编码 {row.entry.basic_code} 不在目录清单中，须先由中心编制")
                continue
            if known is None:
                batch.entries[row.entry.basic_code] = {**values, "created_at": now}
            elif {k: known[k] for k in values} != values:
                refuse(row, f"基本编码 {row.entry.basic_code} 已用于“{known['name']}”，与所填内容不一致")
                continue
        elif {k: getattr(entry, k) for k in values} != values:
            refuse(row, f"基本编码 {row.entry.basic_code} 已用于“{entry.name}”，与所填内容不一致")
            continue
        if row.item_code in latest and latest[row.item_code][1] != org_code:
            refuse(row, "实施编码已属于另一实施主体")
            continue
        held = current.get(row.item_code, {})
        open_version, published = held.get("open"), held.get("published")
        if row.item_code in opened:
            batch.slow.append(row)  # cannot happen from one file (parse refuses duplicates)
            continue
        content = _kept(row, open_version or published)[1]
        if open_version is not None and open_version.status != DRAFT and open_version.content != content:
            refuse(row, f"版本 {open_version.version} 正在审核，不能用导入覆盖")
            continue
        if not publish and open_version is not None and open_version.content == content:
            batch.unchanged += 1
        elif open_version is None and published is not None and published.content == content:
            batch.unchanged += 1
        elif publish or open_version is not None:
            batch.slow.append(row)
        else:
            number = latest.get(row.item_code, (0, ""))[0] + 1
            latest[row.item_code] = (number, org_code)
            opened.add(row.item_code)
            batch.versions.append(
                {
                    "item_code": row.item_code,
                    "version": number,
                    "basic_code": row.entry.basic_code,
                    "status": DRAFT,
                    "org_code": org_code,
                    "region_code": row.content.region_code,
                    "content": content,
                    "note": "",
                    "created_by": principal.sub,
                    "created_at": now,
                    "source_hash": row.source_hash,
                }
            )
    return batch


# --- the job ------------------------------------------------------------------------------------


def _principal_json(principal: Principal) -> dict[str, Any]:
    return principal.model_dump(mode="json")


async def submit_import(
    session: AsyncSession,
    *,
    filename: str,
    file_format: str,
    data: bytes,
    principal: Principal,
    force: bool,
    publish: bool,
) -> CatalogueImport:
    """Store the file and queue its job; a worker validates and imports it (see :func:`run_job`)."""
    job = CatalogueImport(
        id=uuid.uuid4(),
        filename=filename,
        file_format=file_format,
        sha256=hashlib.sha256(data).hexdigest(),
        status=IMPORT_QUEUED,
        phase=PHASE_VALIDATING,
        total_rows=0,
        processed_rows=0,
        valid_rows=0,
        write_rows=0,
        written_through_row=0,
        error_rows=0,
        error_count=0,
        created=0,
        updated=0,
        unchanged=0,
        published=0,
        forced=force,
        publish=publish,
        principal=_principal_json(principal),
        attempts=0,
        failure="",
        created_by=principal.sub,
        created_at=utcnow(),
    )
    await CatalogueImportRepository.from_session(session).create(job)
    await CatalogueImportFileRepository.from_session(session).create(
        CatalogueImportFile(job_id=job.id, data=data)
    )
    await session.flush()
    return job


async def get_import(session: AsyncSession, job_id: uuid.UUID, principal: Principal) -> CatalogueImport:
    """An import job, to the one who ran it or the centre."""
    job = await CatalogueImportRepository.from_session(session).get_by_id(job_id)
    if job is None or not (service.is_centre(principal) or job.created_by == principal.sub):
        raise VersionNotFound("导入任务不存在")
    return job


async def import_errors(
    session: AsyncSession, job_id: uuid.UUID, principal: Principal, *, page: int, limit: int
) -> tuple[Sequence[CatalogueImportError], int]:
    """One page of a job's row errors (sheet, row, column, reason), to whoever may see the job."""
    await get_import(session, job_id, principal)
    return await CatalogueImportErrorRepository.from_session(session).page(job_id, page=page, limit=limit)


async def import_errors_of(
    session: AsyncSession, job_id: uuid.UUID, *, page: int, limit: int
) -> tuple[Sequence[CatalogueImportError], int]:
    """One page of a job's errors (the caller has checked who may see the job)."""
    return await CatalogueImportErrorRepository.from_session(session).page(job_id, page=page, limit=limit)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing a 100k-row file allocates millions of small acyclic objects, and the cyclic
    collector would walk them again and again (a third of the parse time, measured); it is
    paused for the parse and run once after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_and_validate(
    file_format: str, data: bytes, progress: Progress, known: Callable[[list[str]], dict[str, str]] | None
) -> ParsedFile:
    with _no_cyclic_gc():
        raw = spreadsheet.RAW_READERS[file_format](data)
        progress.total = raw.row_count
        hashes = known(raw.item_codes()) if known is not None else {}
        return raw.parse(progress, hashes)


@dataclass
class JobContext:
    """What a worker needs to run jobs: the database, the events' source and its heartbeat."""

    sessionmaker: async_sessionmaker[AsyncSession]
    source: str
    heartbeat_s: float = 2.0


class LeaseLost(Exception):
    """The job was taken back from this worker (its heartbeat was late): stop touching it."""


async def _known_hashes(
    context: JobContext, principal: Principal, publish: bool, loop: asyncio.AbstractEventLoop
) -> Callable[[list[str]], dict[str, str]]:
    """A lookup, callable from the parsing thread, of the row hashes a re-import may skip on."""

    async def lookup(codes: list[str]) -> dict[str, str]:
        async with session_scope(context.sessionmaker) as session:
            found = await ItemVersionRepository.from_session(session).source_hashes(codes)
        centre = service.is_centre(principal)
        skip: dict[str, str] = {}
        for code, (status, org_code, source_hash) in found.items():
            if source_hash is None or (not centre and principal.org_code != org_code):
                continue
            # A row equal to the open draft still has to be published when asked to.
            if publish and status != PUBLISHED:
                continue
            skip[code] = source_hash
        return skip

    def from_thread(codes: list[str]) -> dict[str, str]:
        return asyncio.run_coroutine_threadsafe(lookup(codes), loop).result()

    return from_thread


async def _beat(context: JobContext, job_id: uuid.UUID, progress: Progress, reading: list[bool]) -> None:
    """Keep the lease and, while the file is read, publish how far validation is."""
    while True:
        await asyncio.sleep(context.heartbeat_s)
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if reading[0]:
            values |= {"processed_rows": progress.done, "total_rows": progress.total}
        async with session_scope(context.sessionmaker) as session:
            if not await CatalogueImportRepository.from_session(session).progress(job_id, values):
                return


def _error_dicts(errors: Sequence[RowError]) -> list[dict[str, Any]]:
    return [asdict(e) for e in sorted(errors, key=lambda e: (e.sheet, e.row))]


async def run_job(context: JobContext, job_id: uuid.UUID) -> None:
    """Validate and import one claimed job, from where a previous attempt stopped.

    Raises:
        LeaseLost: when another worker recovered the job meanwhile.
    """
    async with session_scope(context.sessionmaker) as session:
        job = await CatalogueImportRepository.from_session(session).get_by_id(job_id)
        data = await CatalogueImportFileRepository.from_session(session).data(job_id)
    if job is None:
        return
    if data is None:
        async with session_scope(context.sessionmaker) as session:
            await CatalogueImportRepository.from_session(session).progress(
                job_id, {"status": "failed", "failure": "导入文件已不存在", "finished_at": utcnow()}
            )
        return
    principal = Principal.model_validate(job.principal)
    progress = Progress(done=0, total=job.total_rows)
    reading = [job.phase == PHASE_VALIDATING]
    beat = asyncio.create_task(_beat(context, job_id, progress, reading), name=f"import-beat-{job_id}")
    try:
        await _run(context, job, data, principal, progress, reading)
    finally:
        beat.cancel()
        try:
            await beat
        except asyncio.CancelledError:
            pass
        gc.unfreeze()
    gc.collect()


async def _run(
    context: JobContext,
    job: CatalogueImport,
    data: bytes,
    principal: Principal,
    progress: Progress,
    reading: list[bool],
) -> None:
    loop = asyncio.get_running_loop()
    known = await _known_hashes(context, principal, job.publish, loop)
    validating = job.phase == PHASE_VALIDATING
    # Validation runs in a thread so that the service keeps answering (the job's status too).
    parsed = await asyncio.to_thread(_read_and_validate, job.file_format, data, progress, known)
    # The parsed file (millions of acyclic objects) lives until the job ends: moved out of the
    # collector's generations (``run_job`` thaws them), so that the collections the planning
    # and the writes trigger do not walk it again each time (a fifth of the job, measured).
    gc.freeze()
    reading[0] = False
    if validating:
        async with session_scope(context.sessionmaker) as session:
            plan = await _batch(session, parsed.rows, principal, publish=job.publish)
        refusals = plan.errors
        errors = parsed.errors + refusals
        refused = {e.row for e in refusals}
        to_write = [r for r in parsed.rows if r.row not in refused]
        rejected = bool(errors) and not job.forced
        async with session_scope(context.sessionmaker) as session:
            jobs = CatalogueImportRepository.from_session(session)
            stored = CatalogueImportErrorRepository.from_session(session)
            await stored.clear(job.id)
            await stored.add_many(job.id, _error_dicts(errors), first_seq=1)
            values: dict[str, Any] = {
                "total_rows": parsed.total,
                "valid_rows": len(to_write) + len(parsed.skipped),
                "write_rows": len(to_write),
                "error_rows": len({(e.sheet, e.row) for e in errors}),
                "error_count": len(errors),
                "processed_rows": 0,
                "heartbeat_at": utcnow(),
            }
            if rejected:
                values |= {"status": IMPORT_REJECTED, "phase": PHASE_DONE, "finished_at": utcnow()}
                await CatalogueImportFileRepository.from_session(session).drop(job.id)
            else:
                values |= {"phase": PHASE_IMPORTING, "unchanged": len(parsed.skipped)}
            if not await jobs.progress(job.id, values):
                raise LeaseLost(str(job.id))
        if rejected:
            log.info("catalogue import rejected", extra={"job": str(job.id), "errors": len(errors)})
            return
        done = 0
    else:
        plan = None
        async with session_scope(context.sessionmaker) as session:
            refused = await CatalogueImportErrorRepository.from_session(session).rows_with_errors(
                job.id, spreadsheet.ITEM_SHEET
            )
        # By row number, not position: rows written before the restart now hash as unchanged.
        to_write = [r for r in parsed.rows if r.row not in refused and r.row > job.written_through_row]
        done = job.processed_rows
        log.info("catalogue import resumed", extra={"job": str(job.id), "after_row": job.written_through_row})
    await _write(context, job, principal, to_write, done, plan)


async def _write(
    context: JobContext,
    job: CatalogueImport,
    principal: Principal,
    rows: list[ParsedRow],
    done: int,
    plan: _Batch | None,
) -> None:
    """Write the rows in batches; each batch commits with the job's counters (the resume point).

    ``plan`` is the validation's decision for every row, taken moments before: the batches follow
    it rather than deciding again (a draft opened meanwhile breaks a unique index, and that
    batch's rows take the per-row path). A resumed job has no plan and decides per batch.
    """
    planned = _Planned.of(plan) if plan is not None else None
    seq_row: int | None = None
    for start in range(0, len(rows), BATCH_ROWS):
        chunk = rows[start : start + BATCH_ROWS]
        async with session_scope(context.sessionmaker) as session:
            jobs = CatalogueImportRepository.from_session(session)
            if seq_row is None:
                current = await jobs.get_by_id(job.id)
                seq_row = (current.error_count if current else 0) + 1
            decided = planned.take(chunk) if planned is not None else None
            counts, errors = await _write_batch(session, chunk, principal, job, context.source, decided)
            await CatalogueImportErrorRepository.from_session(session).add_many(
                job.id, _error_dicts(errors), first_seq=seq_row
            )
            seq_row += len(errors)
            counts["error_count"] = len(errors)
            counts["error_rows"] = len({e.row for e in errors})
            if not await jobs.progress(job.id, {"heartbeat_at": utcnow()}):
                raise LeaseLost(str(job.id))
            await jobs.add_counts(
                job.id,
                counts,
                {"processed_rows": done + start + len(chunk), "written_through_row": chunk[-1].row},
            )
    async with session_scope(context.sessionmaker) as session:
        jobs = CatalogueImportRepository.from_session(session)
        current = await jobs.get_by_id(job.id)
        status = IMPORT_DONE_WITH_ERRORS if current is not None and current.error_count else IMPORT_DONE
        values = {"status": status, "phase": PHASE_DONE, "finished_at": utcnow(), "failure": ""}
        if not await jobs.progress(job.id, values):
            raise LeaseLost(str(job.id))
        await CatalogueImportFileRepository.from_session(session).drop(job.id)
    log.info("catalogue import finished", extra={"job": str(job.id), "rows": len(rows)})


@dataclass
class _Planned:
    """The validation's decisions, handed out batch by batch."""

    entries: dict[str, dict[str, Any]]
    versions: dict[str, dict[str, Any]]
    slow: set[int]

    @classmethod
    def of(cls, plan: _Batch) -> _Planned:
        return cls(
            entries=dict(plan.entries),
            versions={v["item_code"]: v for v in plan.versions},
            slow={r.row for r in plan.slow},
        )

    def take(self, rows: Sequence[ParsedRow]) -> _Batch:
        batch = _Batch()
        for row in rows:
            if (entry := self.entries.pop(row.entry.basic_code, None)) is not None:
                batch.entries[row.entry.basic_code] = entry
            if row.row in self.slow:
                batch.slow.append(row)
            elif (version := self.versions.get(row.item_code)) is not None:
                batch.versions.append(version)
            else:
                batch.unchanged += 1
        return batch


async def _write_batch(
    session: AsyncSession,
    rows: Sequence[ParsedRow],
    principal: Principal,
    job: CatalogueImport,
    source: str,
    decided: _Batch | None = None,
) -> tuple[dict[str, int], list[RowError]]:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "published": 0}
    batch = decided if decided is not None else await _batch(session, rows, principal, publish=job.publish)
    errors = list(batch.errors)
    slow = list(batch.slow)
    try:
        async with session.begin_nested():
            await CatalogueEntryRepository.from_session(session).insert_many(list(batch.entries.values()))
            await ItemVersionRepository.from_session(session).insert_many(batch.versions)
        counts["created"] += len(batch.versions)
        counts["unchanged"] += batch.unchanged
    except IntegrityError:
        # Someone opened a draft of one of these items meanwhile: each row on its own then.
        drafted = {v["item_code"] for v in batch.versions}
        slow += [r for r in rows if r.item_code in drafted]
        counts["unchanged"] += batch.unchanged
    for row in slow:
        try:
            async with session.begin_nested():
                outcome = await _import_row(session, row, principal, publish=job.publish, source=source)
        except Problem as problem:
            errors.append(RowError(spreadsheet.ITEM_SHEET, row.row, "", problem.detail or problem.title))
            continue
        except IntegrityError:
            errors.append(
                RowError(spreadsheet.ITEM_SHEET, row.row, "", "导入期间有人修改了同一事项，请重新导入")
            )
            continue
        kind, _, published = outcome.partition("+")
        counts[kind] += 1
        counts["published"] += bool(published)
    return counts, errors


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
