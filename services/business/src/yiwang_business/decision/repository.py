"""Queries of decisions."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from yiwang_business.db import column_values
from yiwang_business.decision.models import Decision
from yiwang_common.db.repository import RepositoryBase

# Prebuilt: the 决定 step writes one decision per case on the hot path.
_INSERT_DECISION = cast(Table, Decision.__table__).insert()


class DecisionRepository(RepositoryBase[Decision]):
    """Reads and writes ``decision``."""

    model = Decision

    async def get_for_case(self, case_no: str) -> Decision | None:
        """Return the decision of a case, if made."""
        return await self.get_one_or_none(self.get_base_statement().where(Decision.case_no == case_no))

    async def insert(self, decision: Decision) -> None:
        """Write a new decision (built, never added to the session) with one prebuilt ``INSERT``."""
        await self.execute(_INSERT_DECISION, column_values(decision))
