"""Architecture checks shared by every service's tests: where queries may live."""

from __future__ import annotations

import ast
import contextvars
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

#: Calls that build or run SQL. A service module other than a repository making one is a query
#: out of place.
_BUILDERS = frozenset({"select", "insert", "update", "delete", "text", "exists", "union_all"})
_SESSION_CALLS = frozenset({"execute", "get", "scalar", "scalars", "stream", "merge", "refresh"})
_ALLOWED_FILES = frozenset({"repository.py", "models.py", "db.py"})


def find_queries_outside_repositories(package_dir: Path) -> list[str]:
    """List SQL built or run outside ``repository.py`` files in one service package.

    Models (table definitions), ``db.py`` (engine wiring) and migrations may speak SQL;
    everything else goes through a repository method.

    Args:
        package_dir: the service's import package (``src/yiwang_<svc>``).

    Returns:
        ``path:line: call`` for each offending call, empty when the rule holds.
    """
    found: list[tuple[str, int, str]] = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir)
        if path.name in _ALLOWED_FILES or "migrations" in rel.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        sql_names = _imported_sql_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in sql_names:
                found.append((str(rel), node.lineno, f"{func.id}()"))
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in _SESSION_CALLS
                and isinstance(func.value, ast.Name | ast.Attribute)
                and _tail(func.value) == "session"
            ):
                found.append((str(rel), node.lineno, f"session.{func.attr}()"))
    return [f"{rel}:{line}: {call}" for rel, line, call in sorted(found)]


def _imported_sql_names(tree: ast.Module) -> set[str]:
    # Only names imported from SQLAlchemy count: a local function called update() is not SQL.
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sqlalchemy"):
            for alias in node.names:
                if alias.name in _BUILDERS:
                    names.add(alias.asname or alias.name)
    return names


def _tail(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


#: The counter whose ``with`` block the running code is in.
_COUNTING: contextvars.ContextVar[StatementCounter | None] = contextvars.ContextVar(
    "yiwang_statement_counter", default=None
)


class StatementCounter:
    """Record the statements (round trips) an engine sends while the ``with`` block runs.

    Architecture tests use it to pin the cost of hot paths: a change that adds a round trip
    to registering a case or projecting an event fails them.

    Only the statements of the code inside the block count, and of tasks it starts: an app's
    background tasks share the engine (the calendar refresh, the import worker's poll) and would
    otherwise add a statement now and then, on a slow run. The block is told apart by a context
    variable, which asyncio copies into tasks created inside it and SQLAlchemy into its greenlets.
    """

    def __init__(self, bind: AsyncEngine | async_sessionmaker[AsyncSession]) -> None:
        if isinstance(bind, async_sessionmaker):
            engine = bind.kw["bind"]
            assert isinstance(engine, AsyncEngine), "the sessionmaker must be bound to an engine"
            bind = engine
        self.engine: AsyncEngine = bind
        self.sent: list[str] = []
        self._token: contextvars.Token[StatementCounter | None] | None = None

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _COUNTING.get() is self:
            self.sent.append(statement)

    def __enter__(self) -> StatementCounter:
        self._token = _COUNTING.set(self)
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._record)
        if self._token is not None:
            _COUNTING.reset(self._token)
            self._token = None
