"""The query-placement check finds SQL outside repositories and nothing else."""

from __future__ import annotations

from pathlib import Path

from yiwang_common.testing.architecture import find_queries_outside_repositories


def test_flags_sql_outside_repositories_only(tmp_path: Path) -> None:
    pkg = tmp_path / "yiwang_demo"
    (pkg / "case").mkdir(parents=True)
    (pkg / "migrations" / "versions").mkdir(parents=True)
    (pkg / "case" / "repository.py").write_text(
        "from sqlalchemy import select\nasync def q(session):\n    return await session.execute(select(1))\n"
    )
    (pkg / "case" / "service.py").write_text(
        "from sqlalchemy import select as sel\n"
        "def update(x):\n    return x\n"
        "async def bad(self):\n    update(1)\n    await self.session.get(object, 1)\n    return sel(1)\n"
    )
    (pkg / "migrations" / "versions" / "m.py").write_text("from sqlalchemy import text\ntext('select 1')\n")
    found = find_queries_outside_repositories(pkg)
    assert found == ["case/service.py:6: session.get()", "case/service.py:7: sel()"]


def test_a_clean_package_passes(tmp_path: Path) -> None:
    pkg = tmp_path / "yiwang_clean"
    pkg.mkdir()
    (pkg / "service.py").write_text("async def ok(repo):\n    return await repo.get_by_id(1)\n")
    assert find_queries_outside_repositories(pkg) == []
