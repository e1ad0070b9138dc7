"""Queries of the e-licence library (电子证照库)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.common import ELicence
from yiwang_datasharing.case_record.models import CaseRecord
from yiwang_datasharing.licence.models import ELicenceRecord
from yiwang_datasharing.sql import upsert_insert


class LicenceRepository:
    """E-licence rows."""

    async def add_if_new(self, session: AsyncSession, *, licence: ELicence, registered_at: datetime) -> bool:
        """Insert a licence unless its identifier is known; tell whether it was inserted."""
        values = licence.model_dump(mode="python", exclude={"issuer"}) | {
            "issuer_name": licence.issuer.name,
            "issuer_code": licence.issuer.code,
            "status": "valid",
            "registered_at": registered_at,
        }
        stmt = (
            upsert_insert(session, ELicenceRecord)
            .values(values)
            .on_conflict_do_nothing(index_elements=["identifier"])
            .returning(ELicenceRecord.__table__.c.identifier)
        )
        return (await session.execute(stmt)).first() is not None

    async def get_with_holder(
        self, session: AsyncSession, identifier: str
    ) -> tuple[ELicenceRecord, str | None] | None:
        """The licence and the account id of its case's applicant (its holder), if known."""
        stmt = (
            select(ELicenceRecord, CaseRecord.applicant_id)
            .outerjoin(CaseRecord, CaseRecord.case_no == ELicenceRecord.case_no)
            .where(ELicenceRecord.identifier == identifier)
        )
        row = (await session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])


licence_repository = LicenceRepository()
