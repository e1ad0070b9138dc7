"""The command line every service shares: ``serve``, ``migrate``, ``openapi``, ``load-demo``, ``dead-letters``."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError

from yiwang_common.config import ServiceSettings
from yiwang_common.http.limits import ProblemHttpToolsProtocol
from yiwang_common.http.problems import Problem


@dataclass(frozen=True)
class ExtraCommand:
    """A command one service adds to the shared ones (e.g. management's ``worker``).

    Attributes:
        name: the sub-command.
        help: its one-line help.
        configure: adds its arguments to its parser.
        run: runs it with the settings and parsed arguments; returns the exit status.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Any, argparse.Namespace], int]


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
    extra_commands: tuple[ExtraCommand, ...] = ()

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
        dead = sub.add_parser("dead-letters", help="list or replay dead letters (死信)")
        dead_sub = dead.add_subparsers(dest="action", required=True)
        listing = dead_sub.add_parser("list", help="dead letters not replayed yet (newest first)")
        listing.add_argument("--all", action="store_true", help="include replayed ones")
        replay = dead_sub.add_parser("replay", help="publish or handle a dead letter again")
        target = replay.add_mutually_exclusive_group(required=True)
        target.add_argument("id", nargs="?", type=int, help="the dead letter's id")
        target.add_argument("--all", action="store_true", help="every dead letter not replayed yet")
        for extra in self.extra_commands:
            extra.configure(sub.add_parser(extra.name, help=extra.help))
        args = parser.parse_args(argv)
        try:
            settings = self.settings()
            settings.db_url  # noqa: B018 - refuse to start here, with the reason, not deep in a traceback
        except ValidationError as exc:
            raise SystemExit(f"yiwang-{self.name}: {'; '.join(e['msg'] for e in exc.errors())}") from None
        except ValueError as exc:
            raise SystemExit(f"yiwang-{self.name}: {exc}") from None
        if args.command in ("migrate", "serve") and (args.command == "migrate" or args.migrate):
            # Alembic is imported only where it is used: it is a tenth of a service's start-up.
            from yiwang_common.migrations import upgrade_database

            asyncio.run(upgrade_database(settings.database, self.migrations))
        extras = {e.name: e for e in self.extra_commands}
        if args.command in extras:
            raise SystemExit(extras[args.command].run(settings, args))
        if args.command == "load-demo":
            if self.load_demo is not None:
                asyncio.run(self.load_demo(settings))
        elif args.command == "dead-letters":
            raise SystemExit(asyncio.run(self._dead_letters(settings, args)))
        elif args.command == "openapi":
            print(json.dumps(self.app(settings).openapi(), ensure_ascii=False, indent=2))  # noqa: T201
        elif args.command == "serve":
            import uvicorn

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

    async def _dead_letters(self, settings: ServiceSettings, args: argparse.Namespace) -> int:
        from yiwang_common.events.dead_letters import DeadLetters

        app = self.app(settings)
        store: DeadLetters = app.state.dead_letters
        try:
            if args.action == "list":
                for item in await store.find(include_replayed=args.all, limit=10_000):
                    print(item.model_dump_json())  # noqa: T201
                return 0
            results = await store.replay_all() if args.all else [await store.replay(args.id)]
            for result in results:
                print(result.model_dump_json())  # noqa: T201
            return 1 if any(r.status == "failed" for r in results) else 0
        except Problem as exc:
            print(json.dumps({"error": exc.code, "detail": exc.detail}, ensure_ascii=False))  # noqa: T201
            return 2
        finally:
            await app.state.runtime.engine.dispose()
