"""mypy runs strict on every package: the setting is global, not an override for one library."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_strict_for_the_whole_workspace() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config.get("strict") is True
    for override in config.get("overrides", []):
        # Overrides may only silence untyped third-party modules, never loosen our own packages.
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        assert not any(m.startswith("yiwang") for m in modules), override
        assert set(override) <= {"module", "ignore_missing_imports"}, override


def test_make_lint_type_checks_every_package() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for src in (
        "libs/common/src",
        "libs/contracts/src",
        "libs/sdk/src",
        *(f"services/{s}/src" for s in ("gateway", "management", "business", "data-sharing")),
    ):
        assert src in makefile, src
