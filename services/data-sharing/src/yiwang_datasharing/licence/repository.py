"""Queries of the e-licence library (电子证照库)."""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import ColumnElement, exists, or_

from yiwang_common.contracts.common import ELicence
from yiwang_common.db.repository import RepositoryBase
from yiwang_datasharing.access import ReadScope
from yiwang_datasharing.case_record.models import CaseRecord
from yiwang_datasharing.case_record.repository import CaseRecordRepository
from yiwang_datasharing.item.repository import ItemScopeRepository
from yiwang_datasharing.licence.models import ELicenceRecord

#: Fixed SQL sent straight to the driver (prepared once per connection).
_ADD_IF_NEW = (
    "INSERT INTO e_licence (identifier, type_code, type_name, licence_no, version, holder_name, holder_code,"
    " holder_code_type, issuer_name, issuer_code, issued_on, valid_from, valid_until, jurisdiction_code,"
    " trust_level, case_no, item_code, data, status, registered_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'valid', $19)"
    " ON CONFLICT (identifier) DO NOTHING RETURNING identifier"
)


class LicenceRepository(RepositoryBase[ELicenceRecord]):
    """E-licence rows."""

    model = ELicenceRecord

    async def add_if_new(self, *, licence: ELicence, registered_at: datetime) -> bool:
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
        conn = await self.session.connection()
        return (await conn.exec_driver_sql(_ADD_IF_NEW, params)).first() is not None

    async def get_visible(self, identifier: str, scope: ReadScope) -> ELicenceRecord | None:
        """The licence if the caller may read its case or its item; None if absent or not theirs."""
        conditions: list[ColumnElement[bool]] = [
            exists().where(
                CaseRecord.case_no == ELicenceRecord.case_no, CaseRecordRepository.visible_to(scope)
            )
        ]
        items = ItemScopeRepository.items_in_scope(scope)
        if items is not None:
            conditions.append(ELicenceRecord.item_code.in_(items))
        stmt = self.get_base_statement().where(ELicenceRecord.identifier == identifier, or_(*conditions))
        return await self.get_one_or_none(stmt)

    async def of_holder(self, holder_code: str, *, limit: int) -> list[ELicenceRecord]:
        """The licences of one 持证主体代码 (exact match), newest first."""
        stmt = (
            self.get_base_statement()
            .where(ELicenceRecord.holder_code == holder_code)
            .order_by(ELicenceRecord.issued_on.desc(), ELicenceRecord.identifier)
            .limit(limit)
        )
        return list(await self.get_all(stmt))

    async def get(self, identifier: str) -> ELicenceRecord | None:
        """The licence by its identifier, for public verification (核验) only."""
        stmt = self.get_base_statement().where(ELicenceRecord.identifier == identifier)
        return await self.get_one_or_none(stmt)
