"""Queries of the base registries (基础库): exact-match reads, batch upserts, jobs, lookup records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import literal_column, or_, update
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db.repository import RepositoryBase
from yiwang_datasharing.registry.models import (
    LegalPersonRecord,
    PopulationRecord,
    RegistryLoadJob,
    RegistryLookup,
)

_PERSON_FIELDS = ("name", "gender", "birth_date", "address")
_LEGAL_FIELDS = ("name", "legal_rep_name", "legal_rep_id_number", "address", "established_on", "status")


def _upsert(model: Any, key: str, fields: Sequence[str], rows: Sequence[dict[str, Any]]) -> Any:
    """One ``INSERT … ON CONFLICT DO UPDATE`` for a batch; a row whose values did not change is left
    alone (and returns nothing), so a reload of the same file writes nothing."""
    table = model.__table__
    stmt = insert(table).values(list(rows))
    excluded = stmt.excluded
    changed = or_(*(table.c[f].is_distinct_from(excluded[f]) for f in fields))
    return stmt.on_conflict_do_update(
        index_elements=[key],
        set_={
            **{f: excluded[f] for f in fields},
            "load_job_id": excluded.load_job_id,
            "updated_at": excluded.updated_at,
        },
        where=changed,
        # xmax is 0 on a freshly inserted row version: tells an insert from an update.
    ).returning(literal_column("(xmax = 0)").label("inserted"))


class PopulationRepository(RepositoryBase[PopulationRecord]):
    """人口库 rows: read by exact 公民身份号码 only (no listing, no partial match)."""

    model = PopulationRecord

    async def get_exact(self, id_number: str) -> PopulationRecord | None:
        return await self.get_by_id(id_number)

    async def upsert(self, rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
        """Write a batch; return (inserted, updated)."""
        return _counts(await self.execute(_upsert(PopulationRecord, "id_number", _PERSON_FIELDS, rows)))


class LegalPersonRepository(RepositoryBase[LegalPersonRecord]):
    """法人库 rows: read by exact 统一社会信用代码 only."""

    model = LegalPersonRecord

    async def get_exact(self, credit_code: str) -> LegalPersonRecord | None:
        return await self.get_by_id(credit_code)

    async def upsert(self, rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
        """Write a batch; return (inserted, updated)."""
        return _counts(await self.execute(_upsert(LegalPersonRecord, "credit_code", _LEGAL_FIELDS, rows)))


def _counts(result: Any) -> tuple[int, int]:
    flags = [bool(r.inserted) for r in result]
    return sum(flags), len(flags) - sum(flags)


class LoadJobRepository(RepositoryBase[RegistryLoadJob]):
    """导入任务 rows."""

    model = RegistryLoadJob

    async def get(self, job_id: uuid.UUID) -> RegistryLoadJob | None:
        return await self.get_by_id(job_id)

    async def progress(self, job_id: uuid.UUID, **values: Any) -> None:
        """Add to a job's counters (``processed_rows=500``) or set its other columns."""
        counters = {"processed_rows", "inserted", "updated", "unchanged"}
        table = RegistryLoadJob.__table__
        set_ = {k: (table.c[k] + v if k in counters else v) for k, v in values.items()}
        await self.execute(update(RegistryLoadJob).where(RegistryLoadJob.id == job_id).values(**set_))


class LookupRepository(RepositoryBase[RegistryLookup]):
    """查询记录: insert only; nothing here updates or deletes a record."""

    model = RegistryLookup

    async def append(self, values: dict[str, Any]) -> None:
        await self.execute(insert(RegistryLookup).values(**values))
