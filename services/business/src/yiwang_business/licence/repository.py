"""Queries of e-licences."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from yiwang_business.db import column_values
from yiwang_business.licence.models import ELicence
from yiwang_common.db.repository import RepositoryBase

# Prebuilt: an approving 决定 step writes one licence per case on the hot path.
_INSERT_LICENCE = cast(Table, ELicence.__table__).insert()


class LicenceRepository(RepositoryBase[ELicence]):
    """Reads and writes ``e_licence``."""

    model = ELicence

    async def get_for_case(self, case_no: str) -> ELicence | None:
        """Return the licence issued for a case, if any."""
        return await self.get_one_or_none(self.get_base_statement().where(ELicence.case_no == case_no))

    async def insert(self, licence: ELicence) -> None:
        """Write a new licence (built, never added to the session) with one prebuilt ``INSERT``."""
        await self.execute(_INSERT_LICENCE, column_values(licence))
