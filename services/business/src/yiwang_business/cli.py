"""Command line: ``yiwang-business serve|migrate|load-demo|openapi|worker``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from yiwang_business.config import get_settings
from yiwang_common.cli import ExtraCommand, ServiceCli

if TYPE_CHECKING:
    from fastapi import FastAPI

    from yiwang_business.config import Settings


# The app and the demo data are imported only by the commands that use them: ``migrate``
# starts without either, and ``serve`` does not pay for the demo loader.
def _create_app(settings: Settings) -> FastAPI:
    from yiwang_business.main import create_app

    return create_app(settings)


async def _load_demo(settings: Settings) -> None:
    from yiwang_business.demo import load_demo

    await load_demo(settings)


def _extra_commands() -> tuple[ExtraCommand, ...]:
    from yiwang_business.task.worker import COMMANDS

    return COMMANDS


cli = ServiceCli(
    name="business",
    settings=get_settings,
    app=_create_app,  # type: ignore[arg-type]
    migrations=Path(__file__).parent / "migrations",
    load_demo=_load_demo,  # type: ignore[arg-type]
    extra_commands=_extra_commands(),
)
main = cli.main

if __name__ == "__main__":
    main()
