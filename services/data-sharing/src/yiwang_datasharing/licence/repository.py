"""Queries of the e-licence library (电子证照库)."""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.common import ELicence
from yiwang_datasharing.case_record.models import CaseRecord
from yiwang_datasharing.licence.models import ELicenceRecord

#: Fixed SQL sent straight to the driver (prepared once per connection).
_ADD_IF_NEW = (
    "INSERT INTO e_licence (identifier, type_code, type_name, licence_no, version, holder_name, holder_code,"
    " holder_code_type, issuer_name, issuer_code, issued_on, valid_from, valid_until, jurisdiction_code,"
    " trust_level, case_no, item_code, data, status, registered_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'valid', $19)"
    " ON CONFLICT (identifier) DO NOTHING RETURNING identifier"
)


class LicenceRepository:
    """E-licence rows."""

    async def add_if_new(self, session: AsyncSession, *, licence: ELicence, registered_at: datetime) -> bool:
        """Insert a licence unless its identifier is known; tell whether it was inserted."""
        if registered_at.tzinfo is None:
            raise ValueError("naive datetime given to a TZDateTime column")
        params = (
            licence.identifier,
            licence.type_code,
            licence.type_name,
            licence.licence_no,
            licence.version,
            licence.holder_name,
            licence.holder_code,
            licence.holder_code_type,
            licence.issuer.name,
            licence.issuer.code,
            licence.issued_on,
            licence.valid_from,
            licence.valid_until,
            licence.jurisdiction_code,
            licence.trust_level,
            licence.case_no,
            licence.item_code,
            orjson.dumps(licence.data).decode(),
            registered_at,
        )
        conn = await session.connection()
        return (await conn.exec_driver_sql(_ADD_IF_NEW, params)).first() is not None

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
