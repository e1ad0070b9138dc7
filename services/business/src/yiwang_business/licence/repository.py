"""Queries of e-licences."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.licence.models import ELicence


class LicenceRepository:
    """Reads and writes ``e_licence``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_for_case(self, case_no: str) -> ELicence | None:
        """Return the licence issued for a case, if any."""
        stmt = select(ELicence).where(ELicence.case_no == case_no)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def add(self, licence: ELicence) -> None:
        """Stage a new licence."""
        self.session.add(licence)
