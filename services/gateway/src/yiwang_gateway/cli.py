"""Command line: ``yiwang-gateway serve|migrate|load-demo|openapi``."""

from __future__ import annotations

from pathlib import Path

from yiwang_common.cli import ServiceCli
from yiwang_gateway.config import get_settings
from yiwang_gateway.demo import load_demo
from yiwang_gateway.main import create_app

cli = ServiceCli(
    name="gateway",
    settings=get_settings,
    app=create_app,  # type: ignore[arg-type]
    migrations=Path(__file__).parent / "migrations",
    load_demo=load_demo,  # type: ignore[arg-type]
)
main = cli.main

if __name__ == "__main__":
    main()
