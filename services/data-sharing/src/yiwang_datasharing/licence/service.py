"""Business rules of the e-licence library: register once, show to the holder or staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.contracts.common import ELicence, Organisation
from yiwang_datasharing.access import is_staff
from yiwang_datasharing.licence.errors import LicenceNotFound
from yiwang_datasharing.licence.models import ELicenceRecord
from yiwang_datasharing.licence.repository import licence_repository
from yiwang_datasharing.licence.schemas import LicenceSchema

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
        return await licence_repository.add_if_new(session, licence=licence, registered_at=registered_at)

    async def get_visible(
        self, session: AsyncSession, *, identifier: str, principal: Principal
    ) -> LicenceSchema:
        """The licence, for its holder (the case's applicant) or staff; anyone else sees nothing."""
        found = await licence_repository.get_with_holder(session, identifier)
        if found is None or not (is_staff(principal) or found[1] == principal.sub):
            raise LicenceNotFound(f"电子证照 {identifier} 不存在")
        return to_schema(found[0])


licence_service = LicenceService()
