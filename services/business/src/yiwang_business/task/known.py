"""Tasks this process wrote lately, as it wrote them (已知待办), so completing one can be one statement.

Completing a step reads the task and its case before it can make the next tasks and the step's
event, which costs a transaction of two statements (ADR 0120). A task this process opened a moment
ago is known already: its row and its case's, and the version each was written at (``xmin`` and
``ctid``, see ``task.repository._version``). The
next tasks and the event can then be made first and written in the same statement as the completion,
on the condition that both rows are still at those versions (ADR 0137). Any change since, by this
replica or another (a 转办, a pause, a reminder, a completion elsewhere), fails the condition and the
completion goes the long way, so a stale entry costs one statement and never a wrong write.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from yiwang_business.task.models import BusinessCase, Task

#: An entry older than this is dropped unused: a task left open that long is read again anyway, and
#: it keeps a version far from the 2³² transactions after which PostgreSQL reuses an ``xmin``.
MAX_AGE_S = 3600.0


@dataclass(frozen=True, slots=True)
class Known:
    """A task and its case as this process wrote them, with their row versions."""

    task: Task
    case: BusinessCase
    task_version: str
    case_version: str
    at: float


class KnownTasks:
    """The most recent ``size`` tasks this process wrote (0 keeps none). Each entry is used once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[uuid.UUID, Known] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, tasks: Iterable[tuple[Task, str]], case: BusinessCase, *, case_version: str) -> None:
        """Remember ``tasks`` (each with its row's version) of ``case`` (at ``case_version``)."""
        if self.size <= 0:
            return
        now = time.monotonic()
        entries = self._entries
        for task, version in tasks:
            entries[task.id] = Known(task, case, version, case_version, now)
            entries.move_to_end(task.id)
        while len(entries) > self.size:
            entries.popitem(last=False)

    def take(self, task_id: uuid.UUID) -> Known | None:
        """The entry of ``task_id``, removed: whatever the completion finds, the entry is spent."""
        known = self._entries.pop(task_id, None)
        if known is None or time.monotonic() - known.at > MAX_AGE_S:
            return None
        return known
