"""Atomic counter increments."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.numbering.models import Counter


class CounterRepository:
    """Hands out the next value of a counter inside the caller's unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_value(self, name: str, scope: str, period: str) -> int:
        """Increment and return a counter, creating it at 1.

        One upsert statement, so concurrent units of work never hand out the same value:
        the row lock is held until commit, which is why callers number as late as possible.
        """
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(Counter).values(name=name, scope=scope, period=period, value=1)
        stmt = insert.on_conflict_do_update(
            index_elements=[Counter.name, Counter.scope, Counter.period],
            set_={"value": Counter.value + 1},
        ).returning(Counter.value)
        return int((await self.session.execute(stmt)).scalar_one())
