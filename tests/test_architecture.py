"""Architecture 架构约束: services never import each other, libs/common imports no service, and every
service package has the shape the shared runtime expects."""

from __future__ import annotations

import ast
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
COMMON_SRC = ROOT / "libs" / "common" / "src" / "yiwang_common"
REQUIRED_FILES = ("main.py", "config.py", "db.py", "cli.py", "migrations/env.py")


@dataclass(frozen=True)
class ServicePackage:
    """One workspace member under ``services/``: its directory and import package."""

    directory: Path
    package: str

    @property
    def source(self) -> Path:
        return self.directory / "src" / self.package


def _service_packages() -> list[ServicePackage]:
    found = []
    for pyproject in sorted((ROOT / "services").glob("*/pyproject.toml")):
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        found.append(ServicePackage(pyproject.parent, name.replace("-", "_")))
    return found


SERVICE_PACKAGES = _service_packages()
SERVICE_NAMES = frozenset(s.package for s in SERVICE_PACKAGES)


def imported_modules(source: str, filename: str = "<source>") -> set[str]:
    """Return the absolute module names a module imports, including ``importlib.import_module("…")``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"} and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def forbidden_imports(root: Path, forbidden: frozenset[str]) -> list[str]:
    """List ``file:module`` for every import under ``root`` whose top-level package is forbidden."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        for module in sorted(imported_modules(path.read_text(encoding="utf-8"), str(path))):
            if module.split(".")[0] in forbidden:
                problems.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {module}")
    return problems


class TestImportBoundaries:
    def test_workspace_has_the_four_services(self) -> None:
        assert SERVICE_NAMES == {
            "yiwang_gateway",
            "yiwang_management",
            "yiwang_business",
            "yiwang_datasharing",
        }

    def test_import_linter_contracts_pass(self) -> None:
        lint_imports = shutil.which("lint-imports", path=str(VENV_BIN)) or shutil.which("lint-imports")
        assert lint_imports is not None, "lint-imports not found (import-linter is a dev dependency)"
        result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr

    @pytest.mark.parametrize("service", SERVICE_PACKAGES, ids=lambda s: s.package)
    def test_service_imports_no_other_service(self, service: ServicePackage) -> None:
        others = SERVICE_NAMES - {service.package}
        assert forbidden_imports(service.source, others) == [], (
            f"{service.package} imports another service; share code through yiwang_common only"
        )

    def test_common_imports_no_service(self) -> None:
        assert forbidden_imports(COMMON_SRC, SERVICE_NAMES) == [], "yiwang_common must not know any service"

    def test_checker_finds_every_import_form(self, tmp_path: Path) -> None:
        (tmp_path / "bad.py").write_text(
            "import yiwang_business.models\n"
            "from yiwang_gateway.db import messaging\n"
            "from . import sibling\n"
            "import importlib\n"
            "mod = importlib.import_module('yiwang_datasharing.blobs')\n",
            encoding="utf-8",
        )
        problems = forbidden_imports(
            tmp_path, frozenset({"yiwang_business", "yiwang_gateway", "yiwang_datasharing"})
        )
        assert [p.split(": ")[1] for p in problems] == [
            "yiwang_business.models",
            "yiwang_datasharing.blobs",
            "yiwang_gateway.db",
        ]


@pytest.mark.parametrize("service", SERVICE_PACKAGES, ids=lambda s: s.package)
class TestServiceLayout:
    def test_package_has_the_runtime_modules(self, service: ServicePackage) -> None:
        missing = [name for name in REQUIRED_FILES if not (service.source / name).is_file()]
        assert missing == [], f"{service.package} lacks {missing}"

    def test_package_has_a_migration_revision(self, service: ServicePackage) -> None:
        assert list((service.source / "migrations" / "versions").glob("*.py")), (
            f"{service.package} has no Alembic revision in migrations/versions/"
        )

    def test_tests_directory_is_not_a_package(self, service: ServicePackage) -> None:
        assert list((service.directory / "tests").rglob("__init__.py")) == []


def test_root_tests_directory_is_not_a_package() -> None:
    assert list(Path(__file__).parent.rglob("__init__.py")) == []
