"""Atomic counter increments."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects.postgresql import insert

from yiwang_business.numbering.models import Counter
from yiwang_common.db.repository import RepositoryBase

_counter = cast(Table, Counter.__table__)
#: Prebuilt: the 决定 step draws a number per case on the hot path.
_NEXT_VALUE = (
    insert(_counter)
    .values(name=bindparam("c_name"), scope=bindparam("c_scope"), period=bindparam("c_period"), value=1)
    .on_conflict_do_update(
        index_elements=[_counter.c.name, _counter.c.scope, _counter.c.period],
        set_={"value": _counter.c.value + 1},
    )
    .returning(_counter.c.value)
)


class CounterRepository(RepositoryBase[Counter]):
    """Hands out the next value of a counter inside the caller's unit of work."""

    model = Counter

    async def next_value(self, name: str, scope: str, period: str) -> int:
        """Increment and return a counter, creating it at 1.

        One upsert statement, so concurrent units of work never hand out the same value:
        the row lock is held until commit, which is why callers number as late as possible.
        """
        params = {"c_name": name, "c_scope": scope, "c_period": period}
        return int((await self.execute(_NEXT_VALUE, params)).scalar_one())

    async def next_values(self, *keys: tuple[str, str, str]) -> list[int]:
        """Increment several distinct counters in one upsert; values in the order of ``keys``.

        Rows are locked in the order given, as consecutive :meth:`next_value` calls would.
        """
        if len(keys) == 1:
            return [await self.next_value(*keys[0])]
        table = cast(Table, Counter.__table__)
        rows = insert(table).values([{"name": n, "scope": s, "period": p, "value": 1} for n, s, p in keys])
        stmt = rows.on_conflict_do_update(
            index_elements=[table.c.name, table.c.scope, table.c.period],
            set_={"value": table.c.value + 1},
        ).returning(table.c.name, table.c.scope, table.c.period, table.c.value)
        got = {(r[0], r[1], r[2]): int(r[3]) for r in (await self.session.execute(stmt)).all()}
        return [got[k] for k in keys]
