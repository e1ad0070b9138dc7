"""Queries of decisions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.decision.models import Decision


class DecisionRepository:
    """Reads and writes ``decision``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_for_case(self, case_no: str) -> Decision | None:
        """Return the decision of a case, if made."""
        return (
            await self.session.execute(select(Decision).where(Decision.case_no == case_no))
        ).scalar_one_or_none()

    def add(self, decision: Decision) -> None:
        """Stage a new decision."""
        self.session.add(decision)
