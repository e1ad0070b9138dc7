"""The command line every service shares: ``serve``, ``migrate``, ``openapi`` and ``load-demo``."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from yiwang_common.config import ServiceSettings
from yiwang_common.http.limits import ProblemHttpToolsProtocol
from yiwang_common.migrations import upgrade_database


@dataclass(frozen=True)
class ServiceCli:
    """What the shared CLI needs from a service.

    Attributes:
        name: the service token.
        settings: factory for the service's settings.
        app: factory for the app, given settings.
        migrations: the service's ``migrations`` directory.
        load_demo: loads demonstration data (idempotent), given settings.
    """

    name: str
    settings: Callable[[], ServiceSettings]
    app: Callable[[ServiceSettings], FastAPI]
    migrations: Path
    load_demo: Callable[[ServiceSettings], Coroutine[Any, Any, None]] | None = None

    def main(self, argv: list[str] | None = None) -> None:
        """Parse arguments and run the command.

        Args:
            argv: arguments (defaults to ``sys.argv``).
        """
        parser = argparse.ArgumentParser(prog=f"yiwang-{self.name}")
        sub = parser.add_subparsers(dest="command", required=True)
        serve = sub.add_parser("serve", help="run the API (and, unless disabled, relay and consumers)")
        serve.add_argument("--migrate", action="store_true", help="apply migrations first")
        sub.add_parser("migrate", help="apply database migrations")
        sub.add_parser("load-demo", help="load demonstration data (idempotent)")
        sub.add_parser("openapi", help="print the OpenAPI document")
        args = parser.parse_args(argv)
        settings = self.settings()
        if args.command in ("migrate", "serve") and (args.command == "migrate" or args.migrate):
            asyncio.run(upgrade_database(settings.database, self.migrations))
        if args.command == "load-demo":
            if self.load_demo is not None:
                asyncio.run(self.load_demo(settings))
        elif args.command == "openapi":
            print(json.dumps(self.app(settings).openapi(), ensure_ascii=False, indent=2))  # noqa: T201
        elif args.command == "serve":
            uvicorn.run(
                self.app(settings),
                host=settings.host,
                port=settings.port,
                log_config=None,
                access_log=False,
                loop="uvloop",
                # httptools, with the parser's own 400 written as problem+json.
                http=ProblemHttpToolsProtocol,
                timeout_graceful_shutdown=5,
                # uvicorn would otherwise take X-Forwarded-For from any local peer as the client;
                # the gateway decides which proxies to believe (GATEWAY_LOGIN__TRUSTED_PROXIES).
                proxy_headers=False,
            )
