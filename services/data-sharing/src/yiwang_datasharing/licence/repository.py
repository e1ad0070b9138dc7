"""Queries of the e-licence library (电子证照库)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from yiwang_common.contracts.common import ELicence
from yiwang_common.db.repository import RepositoryBase
from yiwang_datasharing.access import ReadScope
from yiwang_datasharing.case_record.models import CaseRecord
from yiwang_datasharing.case_record.repository import CaseRecordRepository
from yiwang_datasharing.item.repository import ItemScopeRepository
from yiwang_datasharing.licence.models import ELicenceRecord, LicenceType, SigningKey
from yiwang_datasharing.licence.signing import SignedLicence

#: Fixed SQL sent straight to the driver (prepared once per connection). The row goes in only while
#: its signing key ($23) is still in use: a signer that remembers which key is active (and may not
#: have seen another replica's rotation) learns of the rotation here, in the same statement.
_ADD_IF_NEW = (
    "INSERT INTO e_licence (identifier, type_code, type_name, licence_no, version, holder_name, holder_code,"
    " holder_code_type, issuer_name, issuer_code, issued_on, valid_from, valid_until, jurisdiction_code,"
    " trust_level, case_no, item_code, data, status, registered_at, verification_token, signed_payload,"
    " signature_alg, signature_kid, signature_value)"
    " SELECT $1::varchar, $2::varchar, $3::varchar, $4::varchar, $5::varchar, $6::varchar, $7::varchar,"
    " $8::varchar, $9::varchar, $10::varchar, $11::date, $12::date, $13::date, $14::varchar, $15::varchar,"
    " $16::varchar, $17::varchar, $18::jsonb, 'valid', $19::timestamptz, $20::varchar, $21::text,"
    " $22::varchar, $23::varchar, $24::text"
    " WHERE EXISTS (SELECT FROM licence_signing_key WHERE kid = $23::varchar AND retired_at IS NULL)"
    " ON CONFLICT (identifier) DO NOTHING RETURNING identifier"
)


class LicenceRepository(RepositoryBase[ELicenceRecord]):
    """E-licence rows."""

    model = ELicenceRecord

    async def add_if_new(
        self, *, licence: ELicence, registered_at: datetime, token: str, signed: SignedLicence
    ) -> bool:
        """Insert a signed licence unless its identifier is known or its key is retired; tell whether it was inserted."""
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
            token,
            signed.payload,
            signed.algorithm,
            signed.kid,
            signed.value,
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

    async def list_held(self, applicant_id: str, limit: int) -> Sequence[ELicenceRecord]:
        """The licences of the caller's own cases (我的证照), newest first."""
        stmt = (
            self.get_base_statement()
            .where(
                exists().where(
                    CaseRecord.case_no == ELicenceRecord.case_no, CaseRecord.applicant_id == applicant_id
                )
            )
            .order_by(ELicenceRecord.issued_on.desc(), ELicenceRecord.identifier)
            .limit(limit)
        )
        return await self.get_all(stmt)

    async def get(self, identifier: str) -> ELicenceRecord | None:
        """The licence by its identifier, for its issuer's staff and for the holder's checks."""
        stmt = self.get_base_statement().where(ELicenceRecord.identifier == identifier)
        return await self.get_one_or_none(stmt)

    async def get_by_token(self, token: str) -> ELicenceRecord | None:
        """The licence a QR code's verification token names (public verification 核验 only)."""
        stmt = self.get_base_statement().where(ELicenceRecord.verification_token == token)
        return await self.get_one_or_none(stmt)

    async def lock(self, identifier: str) -> ELicenceRecord | None:
        """The licence, locked for a status change (两次并发的撤销/暂停 serialise)."""
        stmt = self.get_base_statement().where(ELicenceRecord.identifier == identifier).with_for_update()
        return await self.get_one_or_none(stmt)


class LicenceTypeRepository(RepositoryBase[LicenceType]):
    """证照目录 rows."""

    model = LicenceType

    async def add_if_new(self, values: dict[str, Any]) -> bool:
        return await self.insert_unless_exists(values, conflict=("code",))

    async def list_page(self, offset: int, limit: int) -> tuple[Sequence[LicenceType], int]:
        total = int((await self.session.execute(select(func.count()).select_from(LicenceType))).scalar_one())
        stmt = self.get_base_statement().order_by(LicenceType.code).offset(offset).limit(limit)
        return await self.get_all(stmt), total


class SigningKeyRepository(RepositoryBase[SigningKey]):
    """Signing keys of the issuing units."""

    model = SigningKey

    async def active(self, org_code: str, algorithm: str) -> SigningKey | None:
        stmt = self.get_base_statement().where(
            SigningKey.org_code == org_code,
            SigningKey.algorithm == algorithm,
            SigningKey.retired_at.is_(None),
        )
        return await self.get_one_or_none(stmt)

    async def add_if_no_active(self, values: dict[str, Any]) -> bool:
        """Add a unit's key unless it already has one in use (the partial unique index decides races)."""
        stmt = (
            pg_insert(SigningKey)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["org_code", "algorithm"], index_where=SigningKey.retired_at.is_(None)
            )
            .returning(SigningKey.kid)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def retire_active(self, org_code: str, algorithm: str, at: datetime) -> list[str]:
        """Retire the unit's key in use; return the kids retired."""
        stmt = (
            update(SigningKey)
            .where(
                SigningKey.org_code == org_code,
                SigningKey.algorithm == algorithm,
                SigningKey.retired_at.is_(None),
            )
            .values(retired_at=at)
            .returning(SigningKey.kid)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def public_key(self, kid: str) -> tuple[str, str] | None:
        """(algorithm, public key) of a kid, retired or not."""
        row = (
            await self.session.execute(
                select(SigningKey.algorithm, SigningKey.public_key).where(SigningKey.kid == kid)
            )
        ).first()
        return None if row is None else (row.algorithm, row.public_key)

    async def for_org(self, org_code: str) -> Sequence[SigningKey]:
        stmt = (
            self.get_base_statement().where(SigningKey.org_code == org_code).order_by(SigningKey.created_at)
        )
        return await self.get_all(stmt)
