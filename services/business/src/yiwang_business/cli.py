"""Command line: ``yiwang-business serve|migrate|load-demo|openapi``."""

from __future__ import annotations

from pathlib import Path

from yiwang_business.config import get_settings
from yiwang_business.demo import load_demo
from yiwang_business.main import create_app
from yiwang_common.cli import ServiceCli

cli = ServiceCli(
    name="business",
    settings=get_settings,
    app=create_app,  # type: ignore[arg-type]
    migrations=Path(__file__).parent / "migrations",
    load_demo=load_demo,  # type: ignore[arg-type]
)
main = cli.main

if __name__ == "__main__":
    main()
