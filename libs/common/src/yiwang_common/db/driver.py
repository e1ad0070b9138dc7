"""Prebuilt hot-path statements run on the unit of work's asyncpg connection, past SQLAlchemy's execution layer.

A prebuilt Core statement costs about 50 µs more of client CPU per execution through
``session.execute`` than the round trip itself (execution context, parameter and result
processing, a greenlet switch, the cursor adapter), measured on a two-column ``SELECT``; a statement
with fifty parameters or result columns costs more. On a workflow step, that is a large share of the
client's work (ADR 0129). :class:`DriverStatement` compiles the statement once with the engine's
dialect and runs it as a prepared statement on the asyncpg connection that the session's
transaction holds, with the bind and result processors SQLAlchemy would apply. So it runs in the
same transaction and commits or rolls back with the unit of work; errors come out as SQLAlchemy's
(``sqlalchemy.exc.IntegrityError`` …), and ``before_cursor_execute`` listeners (statement counters)
still see it.

Only for statements whose values all travel as parameters: no Python-side column defaults to
compute (refused when compiled), no expanding ``IN``; results are plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import is_
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

_Processor = Callable[[Any], Any]
#: Stands for a required parameter's missing default (None is a value).
_REQUIRED: Any = object()


@dataclass(slots=True)
class _Compiled:
    sql: str
    #: Bind names in ``$n`` order, each with the value used when it is not given (or ``_REQUIRED``).
    names: tuple[tuple[str, Any], ...]
    #: ``(index, processor)`` of the parameters that have a bind processor.
    binds: tuple[tuple[int, _Processor], ...]
    #: The result columns' types, whose processors are looked up at the first execution.
    types: tuple[Any, ...]
    #: ``(index, processor)`` of the result columns that have one, as the cursor result would apply;
    #: known from the prepared statement's column types, at the first execution.
    results: tuple[tuple[int, _Processor], ...] | None = None


class DriverStatement:
    """A prebuilt Core statement executed on the session's asyncpg connection (see the module)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[Dialect, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.insert_prefetch or compiled.update_prefetch or compiled.postfetch_lastrowid:
            raise ValueError("a driver statement must carry every value as a parameter (no Python defaults)")
        if dialect.paramstyle != "numeric_dollar" or compiled.positiontup is None:
            raise ValueError("driver statements are for asyncpg ($n parameters)")
        names: list[tuple[str, Any]] = []
        binds: list[tuple[int, _Processor]] = []
        for i, name in enumerate(compiled.positiontup):
            bind = compiled.binds[name]
            if bind.expanding or bind.callable is not None:
                raise ValueError(f"driver statements take plain parameters, not {name!r}")
            names.append((name, _REQUIRED if bind.required else bind.value))
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds.append((i, processor))
        types = tuple(column.type for column in compiled._result_columns)
        done = _Compiled(compiled.string, tuple(names), tuple(binds), types)
        self._compiled[dialect] = done
        return done

    async def fetch(
        self, session: AsyncSession, params: Mapping[str, Any], *, alone: bool = False
    ) -> list[tuple[Any, ...]]:
        """Run the statement in ``session``'s transaction and return its rows as tuples.

        ``alone``: when the unit of work has run nothing yet, run the statement as its own
        transaction (PostgreSQL's implicit one: a single statement, CTEs and all, commits or fails
        whole) instead of beginning one, which saves the ``BEGIN`` and ``COMMIT`` round trips. For
        a unit of work that is this one statement; one that goes on to run more begins a
        transaction at its next statement, and this one's writes are committed already. Inside a
        begun transaction, ``alone`` changes nothing.
        """
        # The session's Connection in its transaction, as ``session.connection()`` gives it, without
        # the AsyncConnection proxy that call would build and this one never uses.
        connection: Connection = await greenlet_spawn(session.sync_session.connection)
        dialect = connection.dialect
        compiled = self._compiled.get(dialect) or self._compile(dialect)
        args = _arguments(compiled, params)
        if connection._has_events or connection.engine._has_events:
            connection.dispatch.before_cursor_execute(connection, None, compiled.sql, args, None, False)
        adapted: Any = connection.connection.dbapi_connection
        try:
            async with adapted._execute_mutex:
                if adapted._transaction is None and not alone:
                    # The adapter starts the transaction at a unit of work's first statement (BEGIN);
                    # from then on this statement is part of it, committed or rolled back with it.
                    await adapted._start_transaction()
                prepared, attributes = await adapted._prepare(
                    compiled.sql, getattr(dialect, "_invalidate_schema_cache_asof", 0)
                )
                records = await prepared.fetch(*args)
        except Exception as error:
            await _raise_as_sqlalchemy(connection, adapted, error, compiled.sql, args)
            raise
        results = compiled.results
        if results is None:
            results = compiled.results = _result_processors(dialect, compiled.types, attributes)
        if not results:
            return [tuple(r) for r in records]
        rows: list[tuple[Any, ...]] = []
        for record in records:
            row = list(record)
            for i, processor in results:
                row[i] = processor(row[i])
            rows.append(tuple(row))
        return rows

    async def execute(self, session: AsyncSession, params: Mapping[str, Any], *, alone: bool = False) -> None:
        """Run the statement as :meth:`fetch` does, ignoring any rows."""
        await self.fetch(session, params, alone=alone)


def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    get = params.get
    args = [get(name, default) for name, default in compiled.names]
    # An identity scan in C (``in`` would also call each value's ``__eq__``, UUID's being Python
    # code); the loop only runs to name a missing parameter.
    if any(map(is_, args, repeat(_REQUIRED))):
        for (name, _), value in zip(compiled.names, args, strict=True):
            if value is _REQUIRED:
                raise KeyError(f"parameter {name!r} is required")
    # Like the execution context: processors see None too (a TypeDecorator may refuse or map it).
    for i, processor in compiled.binds:
        args[i] = processor(args[i])
    return args


def _result_processors(
    dialect: Dialect, types: Sequence[Any], attributes: Sequence[Any]
) -> tuple[tuple[int, _Processor], ...]:
    if len(types) != len(attributes):
        raise ValueError("the statement's result columns and the prepared statement's differ")
    found: list[tuple[int, _Processor]] = []
    for i, (type_, attribute) in enumerate(zip(types, attributes, strict=True)):
        processor = type_.dialect_impl(dialect).result_processor(dialect, attribute.type.oid)
        if processor is not None:
            found.append((i, processor))
    return tuple(found)


async def _raise_as_sqlalchemy(
    connection: Connection, adapted: Any, error: Exception, sql: str, args: Sequence[Any]
) -> None:
    # As the cursor adapter and Connection would: the driver's error becomes the DBAPI adapter's,
    # then SQLAlchemy's (IntegrityError …), with a lost connection invalidated (in a greenlet, as
    # the invalidation may talk to the pool).
    try:
        adapted._handle_exception(error)
    except Exception as translated:
        await greenlet_spawn(connection._handle_dbapi_exception, translated, sql, tuple(args), None, None)
