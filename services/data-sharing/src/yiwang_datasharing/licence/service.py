"""Business rules of the e-licence library: register once, show to the holder or staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.contracts.common import ELicence, Organisation
from yiwang_datasharing.access import scope_of
from yiwang_datasharing.licence.errors import HolderListingDenied, LicenceNotFound
from yiwang_datasharing.licence.models import ELicenceRecord
from yiwang_datasharing.licence.repository import LicenceRepository
from yiwang_datasharing.licence.schemas import (
    HolderLicences as HolderLicencesSchema,
    LicenceSchema,
    LicenceVerificationSchema,
)

#: 持证主体代码类型 of a unit (统一社会信用代码); a unit's registered name is public information.
LEGAL_PERSON_CODE_TYPE = "001"
_PLAIN_FIELDS = tuple(name for name in ELicence.model_fields if name != "issuer")


def to_schema(row: ELicenceRecord) -> LicenceSchema:
    """Rebuild the standard licence shape from its row."""
    plain = {name: getattr(row, name) for name in _PLAIN_FIELDS}
    issuer = Organisation(name=row.issuer_name, code=row.issuer_code)
    return LicenceSchema(**plain, issuer=issuer, status=row.status, registered_at=row.registered_at)


class LicenceService:
    """Registration and reads of e-licences."""

    async def register(self, session: AsyncSession, *, licence: ELicence, registered_at: datetime) -> bool:
        """Register a licence; tell whether this is the first time."""
        repository = LicenceRepository.from_session(session)
        return await repository.add_if_new(licence=licence, registered_at=registered_at)

    async def get_visible(
        self, session: AsyncSession, *, identifier: str, principal: Principal
    ) -> LicenceSchema:
        """The licence, for its holder (the case's applicant) or staff of the item's unit or region."""
        row = await LicenceRepository.from_session(session).get_visible(identifier, scope_of(principal))
        if row is None:
            raise LicenceNotFound(f"电子证照 {identifier} 不存在")
        return to_schema(row)

    async def of_holder(
        self, session: AsyncSession, *, holder_code: str, principal: Principal, service_clients: list[str]
    ) -> HolderLicencesSchema:
        """我的证照: every licence of one holder, for the portal (which checked that the holder asks)."""
        if not (principal.kind == "service" and principal.sub in service_clients):
            raise HolderListingDenied("仅门户服务可按持证主体查询证照")
        rows = await LicenceRepository.from_session(session).of_holder(holder_code, limit=200)
        return HolderLicencesSchema(holder_code=holder_code, items=[to_schema(r) for r in rows])

    async def verify(self, session: AsyncSession, *, identifier: str) -> LicenceVerificationSchema:
        """What anyone holding the identifier may learn: that the licence exists and is in force."""
        row = await LicenceRepository.from_session(session).get(identifier)
        if row is None:
            raise LicenceNotFound(f"电子证照 {identifier} 不存在")
        return LicenceVerificationSchema(
            identifier=row.identifier,
            type_name=row.type_name,
            holder_name=mask_holder_name(row.holder_name, row.holder_code_type),
            issuer_name=row.issuer_name,
            issued_on=row.issued_on,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            status=row.status,
        )


def mask_holder_name(name: str, code_type: str) -> str:
    """A person's name shows only its first character (张**); a unit's name is public as registered."""
    if code_type == LEGAL_PERSON_CODE_TYPE:
        return name
    return name[:1] + "*" * max(len(name) - 1, 1)


licence_service = LicenceService()
