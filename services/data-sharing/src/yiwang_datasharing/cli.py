"""Command line: ``yiwang-datasharing serve|migrate|load-demo|openapi|registry``."""

from __future__ import annotations

import sys
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


async def _load_demo(settings: Settings) -> None:
    from yiwang_datasharing.registry.loading import load_demo_registries

    await load_demo_registries(settings)


cli = ServiceCli(
    name="datasharing",
    settings=get_settings,
    app=_create_app,  # type: ignore[arg-type]
    migrations=Path(__file__).parent / "migrations",
    load_demo=_load_demo,  # type: ignore[arg-type]
)


def main(argv: list[str] | None = None) -> None:
    """The shared commands, plus ``registry load`` (基础库 files, with a progress bar)."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["registry"]:
        from yiwang_datasharing.registry.loading import registry_command

        raise SystemExit(registry_command(get_settings(), args[1:]))
    cli.main(argv)


if __name__ == "__main__":
    main()
