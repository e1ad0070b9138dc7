"""Queries of the catalogue (目录清单 entries and 实施清单 versions)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import String, Table, and_, any_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from yiwang_common.db.repository import RepositoryBase
from yiwang_management.catalogue.models import (
    IMPORT_FAILED,
    IMPORT_QUEUED,
    IMPORT_RUNNING,
    OPEN_STATES,
    PUBLISHED,
    CatalogueEntry,
    CatalogueImport,
    CatalogueImportError,
    CatalogueImportFile,
    ItemVersion,
)
from yiwang_management.item.models import Item


def _among(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """``column = ANY(:array)``: one bound array, where ``IN`` would render 10,000 parameters."""
    found: ColumnElement[bool] = column == any_(bindparam(None, list(values), type_=ARRAY(String())))
    return found


def _triple(row: Any) -> tuple[str, int, str]:
    code, version, org = tuple(row)
    return str(code), int(version), str(org)


class CatalogueEntryRepository(RepositoryBase[CatalogueEntry]):
    """目录清单 entries."""

    model = CatalogueEntry

    async def get_many(self, basic_codes: Sequence[str]) -> dict[str, CatalogueEntry]:
        """The entries of these basic codes that exist (one query per 10,000 codes)."""
        found: dict[str, CatalogueEntry] = {}
        for start in range(0, len(basic_codes), 10_000):
            chunk = basic_codes[start : start + 10_000]
            statement = self.get_base_statement().where(_among(CatalogueEntry.basic_code, chunk))
            found |= {e.basic_code: e for e in await self.get_all(statement)}
        return found

    async def list_all(self) -> Sequence[CatalogueEntry]:
        """Every entry, by 基本编码."""
        return await self.get_all(self.get_base_statement().order_by(CatalogueEntry.basic_code))

    async def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert new entries in one statement; an entry another import just added is left as is
        (its content was compared with the row before, and a conflict is refused there)."""
        if rows:
            table: Table = CatalogueEntry.__table__  # type: ignore[assignment]
            statement = pg_insert(table).on_conflict_do_nothing(index_elements=["basic_code"])
            await self.session.execute(statement, list(rows))


class ItemVersionRepository(RepositoryBase[ItemVersion]):
    """Versions of implementation entries; a version is read locked when it is about to change."""

    model = ItemVersion

    async def get(self, item_code: str, version: int, *, for_update: bool = False) -> ItemVersion | None:
        """One version."""
        statement = self.get_base_statement().where(
            ItemVersion.item_code == item_code, ItemVersion.version == version
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def history(self, item_code: str) -> Sequence[ItemVersion]:
        """Every version of an item, oldest first."""
        return await self.get_all(
            self.get_base_statement().where(ItemVersion.item_code == item_code).order_by(ItemVersion.version)
        )

    async def open_version(self, item_code: str) -> ItemVersion | None:
        """The version in preparation (draft, submitted or approved), if any."""
        return await self.get_one_or_none(
            self.get_base_statement().where(
                ItemVersion.item_code == item_code, ItemVersion.status.in_(OPEN_STATES)
            )
        )

    async def published(self, item_code: str, *, for_update: bool = False) -> ItemVersion | None:
        """The version in force, if any."""
        statement = self.get_base_statement().where(
            ItemVersion.item_code == item_code, ItemVersion.status == PUBLISHED
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def next_version(self, item_code: str) -> int:
        """The number a new version gets: above every version row and above the item in force.

        The item row counts too because items published before versions existed (or through
        the direct admin load) have a version but no ``item_version`` row.
        """
        highest_version = select(func.coalesce(func.max(ItemVersion.version), 0)).where(
            ItemVersion.item_code == item_code
        )
        in_force = select(func.coalesce(func.max(Item.version), 0)).where(Item.item_code == item_code)
        versions = [(await self.session.execute(q)).scalar_one() for q in (highest_version, in_force)]
        return max(int(v) for v in versions) + 1

    async def list_page(
        self, *, org_code: str | None, status: str | None, page: int, limit: int
    ) -> tuple[Sequence[ItemVersion], int]:
        """One page of versions, newest activity first, optionally of one body or state."""
        statement = self.get_base_statement()
        if org_code is not None:
            statement = statement.where(ItemVersion.org_code == org_code)
        if status is not None:
            statement = statement.where(ItemVersion.status == status)
        rows, total = await self.paginate(
            statement.order_by(ItemVersion.item_code, ItemVersion.version.desc()), page=page, limit=limit
        )
        return [row[0] for row in rows], total

    async def current_for(self, item_codes: Sequence[str]) -> Sequence[ItemVersion]:
        """The open and published versions of these items (what an import compares rows with)."""
        found: list[ItemVersion] = []
        for start in range(0, len(item_codes), 10_000):
            chunk = item_codes[start : start + 10_000]
            statement = self.get_base_statement().where(
                _among(ItemVersion.item_code, chunk), ItemVersion.status.in_((*OPEN_STATES, PUBLISHED))
            )
            found += await self.get_all(statement)
        return found

    async def latest_for(self, item_codes: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Per item: the highest version number (rows or the item in force) and the owner's code."""
        latest: dict[str, tuple[int, str]] = {}
        for start in range(0, len(item_codes), 10_000):
            chunk = item_codes[start : start + 10_000]
            # Every version of an item has the same owner (create_version refuses another body).
            versions = (
                select(ItemVersion.item_code, func.max(ItemVersion.version), func.min(ItemVersion.org_code))
                .where(_among(ItemVersion.item_code, chunk))
                .group_by(ItemVersion.item_code)
            )
            for row in await self.rows(versions):
                code, version, org = _triple(row)
                latest[code] = (version, org)
            in_force = select(Item.item_code, Item.version, Item.org_code).where(
                _among(Item.item_code, chunk)
            )
            for row in await self.rows(in_force):
                code, version, org = _triple(row)
                if version > latest.get(code, (0, ""))[0]:
                    latest[code] = (version, org)
        return latest

    async def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert new versions with ``COPY`` (an import's drafts; no ORM object, no INSERT per row).

        Measured on the import of 10,000 rows: a multi-row ``INSERT`` through the ORM's bulk path
        spent more in SQLAlchemy than in PostgreSQL; ``COPY`` in the binary protocol is the
        cheapest way in, inside the same transaction.

        Raises:
            sqlalchemy.exc.IntegrityError: when another writer took a version number or opened a
                draft of one of these items meanwhile (the partial unique indexes).
        """
        if not rows:
            return
        columns = list(rows[0])
        records = [
            tuple(orjson.dumps(r[c]).decode() if c == "content" else r[c] for c in columns) for r in rows
        ]
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        try:
            await driver.copy_records_to_table(ItemVersion.__tablename__, columns=columns, records=records)
        except Exception as exc:
            if type(exc).__name__ in {"UniqueViolationError", "ExclusionViolationError"}:
                raise IntegrityError("COPY item_version", None, exc) from exc
            raise

    async def source_hashes(self, item_codes: Sequence[str]) -> dict[str, tuple[str, str, str | None]]:
        """Per item, the version an import compares a row with and its row hash:
        ``(status, org_code, source_hash)`` of the open version, else of the published one."""
        found: dict[str, tuple[str, str, str | None]] = {}
        for start in range(0, len(item_codes), 10_000):
            chunk = item_codes[start : start + 10_000]
            statement = select(
                ItemVersion.item_code, ItemVersion.status, ItemVersion.org_code, ItemVersion.source_hash
            ).where(_among(ItemVersion.item_code, chunk), ItemVersion.status.in_((*OPEN_STATES, PUBLISHED)))
            for row in await self.rows(statement):
                code, status, org, source_hash = tuple(row)
                # The open version is the one a row is compared with when there is one.
                if code not in found or status != PUBLISHED:
                    found[str(code)] = (str(status), str(org), source_hash)
        return found

    async def all_published(self) -> Sequence[ItemVersion]:
        """The versions in force, by 实施编码 (the export)."""
        return await self.get_all(
            self.get_base_statement().where(ItemVersion.status == PUBLISHED).order_by(ItemVersion.item_code)
        )


class CatalogueImportRepository(RepositoryBase[CatalogueImport]):
    """Import jobs: claimed by one worker at a time, kept alive by its heartbeat (a lease)."""

    model = CatalogueImport

    async def claim(self, *, now: datetime, job_id: uuid.UUID | None = None) -> uuid.UUID | None:
        """Take the oldest queued job (or this one) for this worker; None when there is none.

        ``SKIP LOCKED``: two workers never take the same job, and neither waits for the other.
        """
        pick = select(CatalogueImport.id).where(CatalogueImport.status == IMPORT_QUEUED)
        if job_id is not None:
            pick = pick.where(CatalogueImport.id == job_id)
        pick = pick.order_by(CatalogueImport.created_at).limit(1).with_for_update(skip_locked=True)
        statement = (
            update(CatalogueImport)
            .where(CatalogueImport.id == pick.scalar_subquery())
            .values(
                status=IMPORT_RUNNING,
                attempts=CatalogueImport.attempts + 1,
                heartbeat_at=now,
                started_at=func.coalesce(CatalogueImport.started_at, now),
            )
            .returning(CatalogueImport.id)
        )
        row = (await self.execute(statement)).first()
        return None if row is None else uuid.UUID(str(row[0]))

    async def recover(self, *, stale_before: datetime, max_attempts: int, now: datetime) -> int:
        """Jobs whose worker stopped beating (killed, crashed): queued again to be resumed, or
        failed once they have had ``max_attempts`` tries. Returns how many were found."""
        statement = (
            update(CatalogueImport)
            .where(
                CatalogueImport.status == IMPORT_RUNNING,
                or_(CatalogueImport.heartbeat_at.is_(None), CatalogueImport.heartbeat_at < stale_before),
            )
            .values(
                status=case((CatalogueImport.attempts >= max_attempts, IMPORT_FAILED), else_=IMPORT_QUEUED),
                finished_at=case((CatalogueImport.attempts >= max_attempts, now), else_=None),
                failure=case(
                    (
                        CatalogueImport.attempts >= max_attempts,
                        f"导入进程中断，已重试 {max_attempts} 次，请重新导入",
                    ),
                    else_="导入进程中断，已重新排队，将从中断处继续",
                ),
            )
            .returning(CatalogueImport.id)
        )
        return len((await self.execute(statement)).all())

    async def progress(
        self, job_id: uuid.UUID, values: Mapping[str, Any], *, running_only: bool = True
    ) -> bool:
        """Set counters of a job (and its heartbeat); False when the job is no longer this
        worker's to change (recovered by another after a lost lease)."""
        statement = update(CatalogueImport).where(CatalogueImport.id == job_id)
        if running_only:
            statement = statement.where(CatalogueImport.status == IMPORT_RUNNING)
        result = await self.execute(statement.values(**values).returning(CatalogueImport.id))
        return result.first() is not None

    async def add_counts(
        self, job_id: uuid.UUID, counts: Mapping[str, int], values: Mapping[str, Any]
    ) -> None:
        """Add to a job's counters in the unit of work that wrote the rows they count."""
        increments = {name: getattr(CatalogueImport, name) + n for name, n in counts.items()}
        await self.execute(
            update(CatalogueImport).where(CatalogueImport.id == job_id).values(**increments, **values)
        )


class CatalogueImportErrorRepository(RepositoryBase[CatalogueImportError]):
    """The row errors of import jobs, in the order they were found."""

    model = CatalogueImportError

    async def add_many(
        self, job_id: uuid.UUID, errors: Sequence[Mapping[str, Any]], *, first_seq: int
    ) -> None:
        """Store errors numbered from ``first_seq``."""
        if errors:
            rows = [{"job_id": job_id, "seq": first_seq + i, **e} for i, e in enumerate(errors)]
            for start in range(0, len(rows), 5_000):
                table: Table = CatalogueImportError.__table__  # type: ignore[assignment]
                await self.session.execute(insert(table), rows[start : start + 5_000])

    async def clear(self, job_id: uuid.UUID) -> None:
        """Drop a job's errors (a validation that starts again finds them again)."""
        await self.execute(delete(CatalogueImportError).where(CatalogueImportError.job_id == job_id))

    async def page(
        self, job_id: uuid.UUID, *, page: int, limit: int
    ) -> tuple[Sequence[CatalogueImportError], int]:
        """One page of a job's errors, by sheet, row and the order found."""
        statement = (
            self.get_base_statement()
            .where(CatalogueImportError.job_id == job_id)
            .order_by(CatalogueImportError.sheet, CatalogueImportError.row, CatalogueImportError.seq)
        )
        rows, total = await self.paginate(statement, page=page, limit=limit)
        return [row[0] for row in rows], total

    async def rows_with_errors(self, job_id: uuid.UUID, sheet: str) -> set[int]:
        """The row numbers of one sheet that have an error (left out of the writing phase)."""
        statement = select(CatalogueImportError.row).where(
            and_(CatalogueImportError.job_id == job_id, CatalogueImportError.sheet == sheet)
        )
        return {int(r[0]) for r in await self.rows(statement)}


class CatalogueImportFileRepository(RepositoryBase[CatalogueImportFile]):
    """Uploaded files of jobs that have not ended."""

    model = CatalogueImportFile

    async def data(self, job_id: uuid.UUID) -> bytes | None:
        """The file's bytes, if still kept."""
        row = await self.first_row(
            select(CatalogueImportFile.data).where(CatalogueImportFile.job_id == job_id)
        )
        return None if row is None else bytes(row[0])

    async def drop(self, job_id: uuid.UUID) -> None:
        """Forget the file of an ended job."""
        await self.execute(delete(CatalogueImportFile).where(CatalogueImportFile.job_id == job_id))
