"""Command line: ``yiwang-datasharing serve|migrate|load-demo|openapi``."""

from __future__ import annotations

from pathlib import Path

from yiwang_common.cli import ServiceCli
from yiwang_datasharing.config import get_settings
from yiwang_datasharing.main import create_app

cli = ServiceCli(
    name="datasharing",
    settings=get_settings,
    app=create_app,  # type: ignore[arg-type]
    migrations=Path(__file__).parent / "migrations",
)
main = cli.main

if __name__ == "__main__":
    main()
