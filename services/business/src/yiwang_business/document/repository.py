"""Queries of printed documents: a decision with its case and licence."""

from __future__ import annotations

from sqlalchemy import select

from yiwang_business.decision.models import Decision
from yiwang_business.licence.models import ELicence
from yiwang_business.task.models import BusinessCase
from yiwang_common.db.repository import RepositoryBase


class DocumentRepository(RepositoryBase[Decision]):
    """Reads what a printed 决定书 shows."""

    model = Decision

    async def decision_with_case(self, case_no: str) -> tuple[Decision, BusinessCase, str | None] | None:
        """A case's decision with its case and the identifier of the licence it issued, if any."""
        stmt = (
            select(Decision, BusinessCase, ELicence.identifier)
            .join(BusinessCase, BusinessCase.case_no == Decision.case_no)
            .outerjoin(ELicence, ELicence.case_no == Decision.case_no)
            .where(Decision.case_no == case_no)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1], row[2])
