"""``transient`` value objects of the hot path (ADR 0120)."""

from __future__ import annotations

import subprocess
import sys

FRESH_PROCESS = """
from yiwang_business.db import transient
from yiwang_business.models import load_all_models
from yiwang_business.task.models import Task

load_all_models()
task = transient(Task, {"case_no": "530428TEST0001", "step_key": "review"})
task.status = "open"
print(task.case_no, task.step_key, task.status)
"""


def test_transient_works_before_any_query_configured_the_mappers() -> None:
    # A fresh process whose first ORM use is a value object (a worker taking over its first case
    # from a cached definition): the mappers are configured as the constructor would configure them.
    out = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["530428TEST0001", "review", "open"]
