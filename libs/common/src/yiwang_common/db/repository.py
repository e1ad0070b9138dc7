"""仓储 Repositories: the one place queries live, in one style for every service.

A repository is a small class on :class:`RepositoryBase`, made for one unit of work
(``CaseRepository.from_session(session)``) and holding that session, as Polar's server does.
Services never build statements; endpoints and handlers never see a repository's SQL.

The ORM is used one way: an object read through a repository stays attached to the session,
and changes to it are written by the session's flush (``update``), never by a Core ``UPDATE``
of the same row next to the tracked copy. Hot paths that need Core statements (prebuilt
``INSERT … ON CONFLICT``, set-based ``UPDATE … WHERE status = …``) keep them inside the
repository and return plain rows, not ORM objects, so the two never describe the same row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Self, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Result, Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import Executable

M = TypeVar("M", bound=DeclarativeBase)


class RepositoryBase(Generic[M]):
    """Queries of one aggregate's table, bound to one unit of work.

    Subclasses set ``model`` and add named query methods; callers never pass a session per call.
    """

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> Self:
        """Bind a repository to the current unit of work.

        Args:
            session: the request's or message's session.

        Returns:
            The repository.
        """
        return cls(session)

    # --- reading -----------------------------------------------------------------------------

    def get_base_statement(self) -> Select[M]:
        """Return ``SELECT model``: what every query of this repository starts from."""
        return select(self.model)

    async def get_by_id(self, key: Any) -> M | None:
        """Return the object with this primary key, from the identity map when already loaded.

        Args:
            key: the primary key value.

        Returns:
            The object, or None.
        """
        obj: M | None = await self.session.get(self.model, key)
        return obj

    async def get_one_or_none(self, statement: Select[M]) -> M | None:
        """Run a query of at most one object.

        Args:
            statement: a ``SELECT`` of the model.

        Returns:
            The object, or None.
        """
        result = await self.session.execute(statement)
        return result.scalar_one_or_none()

    async def get_all(self, statement: Select[M]) -> Sequence[M]:
        """Run a query of objects.

        Args:
            statement: a ``SELECT`` of the model.

        Returns:
            The objects, in the statement's order.
        """
        result = await self.session.execute(statement)
        objects: Sequence[M] = result.scalars().all()
        return objects

    async def first_row(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Row[Any] | None:
        """Run a column query and return its first row (for projections that need no object).

        Args:
            statement: a Core or ORM statement selecting columns.
            params: bind parameters of a prebuilt statement.

        Returns:
            The row, or None.
        """
        return (await self.session.execute(statement, params)).first()

    async def rows(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]:
        """Run a column query and return all its rows.

        Args:
            statement: a Core or ORM statement selecting columns.
            params: bind parameters of a prebuilt statement.

        Returns:
            The rows.
        """
        return (await self.session.execute(statement, params)).all()

    async def paginate(
        self, statement: Select[Any], *, page: int, limit: int
    ) -> tuple[Sequence[Row[Any]], int]:
        """Return one page of ``statement`` and the size of the whole list, in one round trip.

        The total rides on every row as a window count; only a page past the end (no rows to
        carry it) costs a second query.

        Args:
            statement: the ordered list query (columns or entities).
            page: 1-based page number.
            limit: rows per page.

        Returns:
            The page's rows (the window column ``total`` last) and the total.
        """
        paged = (
            statement.add_columns(func.count().over().label("total")).offset((page - 1) * limit).limit(limit)
        )
        rows = (await self.session.execute(paged)).all()
        if rows:
            return rows, int(rows[0].total)
        if page == 1:
            return rows, 0
        count = select(func.count()).select_from(statement.order_by(None).subquery())
        return rows, int((await self.session.execute(count)).scalar_one())

    # --- writing -----------------------------------------------------------------------------

    async def create(self, obj: M, *, flush: bool = False) -> M:
        """Add a new object to the unit of work.

        Args:
            obj: the object.
            flush: send the ``INSERT`` now (to read server defaults or catch a conflict here).

        Returns:
            The same object, now tracked.
        """
        self.session.add(obj)
        if flush:
            await self.session.flush()
        return obj

    async def update(self, obj: M, *, update_dict: Mapping[str, Any] | None = None, flush: bool = False) -> M:
        """Change a tracked object; the session writes it at flush.

        Args:
            obj: an object read through this unit of work.
            update_dict: attributes to set.
            flush: send the ``UPDATE`` now.

        Returns:
            The same object.
        """
        for key, value in (update_dict or {}).items():
            setattr(obj, key, value)
        if flush:
            await self.session.flush()
        return obj

    async def delete(self, obj: M, *, flush: bool = False) -> None:
        """Remove a tracked object.

        Args:
            obj: the object.
            flush: send the ``DELETE`` now.
        """
        await self.session.delete(obj)
        if flush:
            await self.session.flush()

    async def insert_unless_exists(self, values: Mapping[str, Any], *, conflict: Iterable[str]) -> bool:
        """``INSERT … ON CONFLICT DO NOTHING``: the idempotent write of consumers and retries.

        Two concurrent inserts of one key are safe: the second waits for the first to commit
        and then inserts nothing.

        Args:
            values: the row.
            conflict: the columns of the unique key that makes a row "the same".

        Returns:
            True if this call inserted the row.
        """
        table = self.model.__table__
        pk = list(table.primary_key.columns)[0]
        stmt = (
            pg_insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(conflict))
            .returning(pk)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        """Run a prebuilt statement of this repository (set-based updates, bulk inserts).

        Args:
            statement: the statement.
            params: one parameter mapping, or a list of them for ``executemany``.

        Returns:
            The result.
        """
        return await self.session.execute(statement, params)
