"""Command line: ``yiwang-datasharing serve|migrate|load-demo|openapi``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from yiwang_common.cli import ServiceCli
from yiwang_datasharing.config import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from yiwang_datasharing.config import Settings


# The app and the demo data are imported only by the commands that use them: ``migrate``
# starts without either, and ``serve`` does not pay for the demo loader.
def _create_app(settings: Settings) -> FastAPI:
    from yiwang_datasharing.main import create_app

    return create_app(settings)


cli = ServiceCli(
    name="datasharing",
    settings=get_settings,
    app=_create_app,  # type: ignore[arg-type]
    migrations=Path(__file__).parent / "migrations",
)
main = cli.main

if __name__ == "__main__":
    main()
