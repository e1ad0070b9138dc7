"""Command line: ``yiwang-gateway serve|migrate|load-demo|openapi|signing-keys``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from yiwang_common.cli import ServiceCli
from yiwang_gateway.config import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from yiwang_gateway.config import Settings


# The app and the demo data are imported only by the commands that use them: ``migrate``
# starts without either, and ``serve`` does not pay for the demo loader.
def _create_app(settings: Settings) -> FastAPI:
    from yiwang_gateway.main import create_app

    return create_app(settings)


async def _load_demo(settings: Settings) -> None:
    from yiwang_gateway.demo import load_demo

    await load_demo(settings)


cli = ServiceCli(
    name="gateway",
    settings=get_settings,
    app=_create_app,  # type: ignore[arg-type]
    migrations=Path(__file__).parent / "migrations",
    load_demo=_load_demo,  # type: ignore[arg-type]
)


async def _signing_keys(settings: Settings, args: argparse.Namespace) -> int:
    """List the key ring, or rotate it (ADR 0103): what ``POST /api/v1/admin/signing-keys`` does."""
    from yiwang_common.auth import TokenIssuer
    from yiwang_common.db.engine import create_engine, create_sessionmaker
    from yiwang_gateway.identity.endpoints import keys_out
    from yiwang_gateway.identity.keyring import KeyRing
    from yiwang_gateway.models import load_all_models

    load_all_models()
    engine = create_engine(settings.database)
    sessionmaker = create_sessionmaker(engine)
    keyring = KeyRing(settings, TokenIssuer(settings.auth))
    try:
        await keyring.load(sessionmaker)
        if args.action == "rotate":
            await keyring.rotate(sessionmaker, lead_seconds=args.lead)
        for key in keys_out(await keyring.records(sessionmaker)):
            print(key.model_dump_json())  # noqa: T201
        return 0
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """``signing-keys list|rotate [--lead SECONDS]``, or the commands every service has."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] != ["signing-keys"]:
        cli.main(argv)
        return
    parser = argparse.ArgumentParser(prog="yiwang-gateway signing-keys")
    parser.add_argument("action", choices=["list", "rotate"])
    parser.add_argument(
        "--lead",
        type=int,
        default=None,
        help="seconds the new key is published before it signs (default: settings)",
    )
    parsed = parser.parse_args(args[1:])
    raise SystemExit(asyncio.run(_signing_keys(get_settings(), parsed)))


if __name__ == "__main__":
    main()
