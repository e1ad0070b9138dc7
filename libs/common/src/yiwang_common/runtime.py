"""The shape every service process has: app factory, lifespan, relay and consumers.

A service describes itself with a :class:`ServiceSpec`; :func:`create_service_app` builds the
FastAPI app whose lifespan opens the database, connects to NATS, ensures the service's own
stream and runs the outbox relay and the consumers in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import nats
from fastapi import APIRouter, FastAPI, Request
from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yiwang_common.auth import TokenVerifier, current_principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.config import ServiceSettings
from yiwang_common.db.engine import create_engine
from yiwang_common.events.consumer import ConsumerRunner, Subscription
from yiwang_common.events.dead_letters import DeadLetters, admin_router, metrics_router
from yiwang_common.events.outbox import OUTBOX_NOTIFY_KEY, MessagingTables
from yiwang_common.events.relay import OutboxRelay
from yiwang_common.events.streams import ensure_stream
from yiwang_common.http.health import health_router
from yiwang_common.http.limits import RequestLineLimitMiddleware
from yiwang_common.http.middleware import BodyLimitMiddleware, RequestContextMiddleware, document_body_limit
from yiwang_common.http.openapi import install_openapi
from yiwang_common.http.problems import install_problem_handlers
from yiwang_common.observability import configure_logging

log = logging.getLogger(__name__)


@dataclass
class ServiceSpec:
    """What a service brings to the common runtime.

    Attributes:
        name: the service token used in subjects (``gateway``, ``management`` …).
        title: OpenAPI title.
        description: OpenAPI description (Markdown).
        routers: routers mounted under ``/api/v1``.
        tables: the service's outbox and inbox tables.
        subscriptions: durable consumers the service runs.
        on_startup: extra start-up work after DB and NATS are ready (e.g. HTTP clients).
        on_shutdown: extra shutdown work.
        openapi_tags: tag descriptions for OpenAPI.
        body_limits: ``(method, path prefix, bytes)`` of routes whose bodies may exceed
            ``settings.http.max_body_bytes`` (uploads).
        inner_middleware: ASGI middlewares innermost, under every common one (request limits,
            request id, body limit): a route answered directly in ASGI still gets all of those.
    """

    name: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    tables: MessagingTables
    subscriptions: Sequence[Subscription] = ()
    on_startup: Callable[[FastAPI], Awaitable[None]] | None = None
    on_shutdown: Callable[[FastAPI], Awaitable[None]] | None = None
    openapi_tags: list[dict[str, Any]] = field(default_factory=list)
    body_limits: Sequence[tuple[str, str, int]] = ()
    inner_middleware: Sequence[type[Any]] = ()


class Runtime:
    """Owns the process's connections and background tasks; kept on ``app.state.runtime``."""

    def __init__(self, spec: ServiceSpec, settings: ServiceSettings) -> None:
        """Create the runtime.

        Args:
            spec: the service description.
            settings: the service's settings.
        """
        self.spec = spec
        self.settings = settings
        self.engine: AsyncEngine = create_engine(settings.database)
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, info={OUTBOX_NOTIFY_KEY: self._notify_relay}
        )
        self.nc: NatsClient | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[ConsumerRunner] = []
        self._tasks: list[asyncio.Task[None]] = []

    def _notify_relay(self) -> None:
        if self.relay is not None:
            self.relay.notify()

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of this service's events."""
        return f"urn:yiwang:{self.settings.platform.region_code}:{self.spec.name}"

    async def start(self) -> None:
        """Connect to NATS and start the relay and consumers (when ``run_workers``)."""
        self._tasks.append(asyncio.create_task(self._connect_and_run(), name=f"{self.spec.name}-bus"))

    async def _on_disconnected(self) -> None:
        if self.relay is not None:
            self.relay.connection_lost()

    async def _on_reconnected(self) -> None:
        if self.relay is not None:
            self.relay.notify()

    async def _connect_and_run(self) -> None:
        delay = 0.2
        while self.nc is None:
            try:
                self.nc = await nats.connect(
                    self.settings.nats.url,
                    name=f"yiwang-{self.spec.name}",
                    max_reconnect_attempts=-1,
                    # A restarted NATS is found within half a second; PubAcks lost with the old
                    # connection are failed at once by the disconnected callback.
                    reconnect_time_wait=0.5,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("NATS not reachable yet; retrying", extra={"url": self.settings.nats.url})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        js = self.nc.jetstream()
        while True:
            try:
                await ensure_stream(js, self.spec.name, self.settings.nats)
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("JetStream not ready yet; retrying")
                await asyncio.sleep(1.0)
        if not self.settings.run_workers:
            return
        self.relay = OutboxRelay(
            self.sessionmaker,
            self.spec.tables.outbox,
            js,
            dead_letter=self.spec.tables.dead_letter,
            max_attempts=self.settings.nats.relay_max_attempts,
            max_payload=self.nc.max_payload,
        )
        self.relay.notify()
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.spec.name}-relay"))
        for sub in self.spec.subscriptions:
            runner = ConsumerRunner(
                js,
                self.sessionmaker,
                self.spec.tables.inbox,
                sub,
                self.settings.nats,
                dead_letter=self.spec.tables.dead_letter,
            )
            self.consumers.append(runner)
            self._tasks.append(asyncio.create_task(runner.run(), name=sub.durable))

    async def stop(self) -> None:
        """Stop background work, drain NATS and close the database pool."""
        if self.relay is not None:
            self.relay.stop()
        for runner in self.consumers:
            runner.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.nc is not None and not self.nc.is_closed:
            # Relay and consumers are stopped, so nothing is in flight; drain() would wait its full
            # timeout on the pull subscriptions of the cancelled consumers.
            with contextlib.suppress(Exception):
                await self.nc.close()
        await self.engine.dispose()

    async def database_ready(self, _request: Request) -> bool:
        """Readiness check: the database answers."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def nats_ready(self, _request: Request) -> bool:
        """Readiness check: connected to NATS."""
        return self.nc is not None and self.nc.is_connected


def create_service_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    """Build a service's FastAPI application.

    Args:
        spec: the service description.
        settings: the service's settings.

    Returns:
        The application; its lifespan owns every connection and background task.
    """
    configure_logging(spec.name, settings.log_level)
    runtime = Runtime(spec, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if spec.on_startup is not None:
            await spec.on_startup(app)
        try:
            yield
        finally:
            if spec.on_shutdown is not None:
                await spec.on_shutdown(app)
            await runtime.stop()
            # The JWKS fetchers' connections (the app may have replaced the verifier meanwhile).
            await app.state.token_verifier.aclose()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=[
            *spec.openapi_tags,
            {"name": "admin", "description": "运维 Operations: dead letters (死信) and their replay"},
        ],
        generate_unique_id_function=lambda route: (
            f"{route.tags[0] if route.tags else 'default'}-{route.name}"
        ),
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.sessionmaker = runtime.sessionmaker
    # Keys come from the issuer's JWKS (auth.jwks_url), fetched on the first token, or from the
    # configured static keys; the gateway replaces this with one that reads its own key ring.
    app.state.token_verifier = TokenVerifier(settings.auth)
    app.state.dead_letters = DeadLetters(runtime.sessionmaker, spec.tables, spec.subscriptions)
    app.state.calendar = WorkingDayCalendar(
        settings.calendar.extra_holidays, settings.calendar.extra_workdays
    )
    install_problem_handlers(app)
    # Added first, so innermost (Starlette wraps the first added innermost).
    for middleware in reversed(spec.inner_middleware):
        app.add_middleware(middleware)
    # Inside the request context, so a 413 carries the request id.
    app.add_middleware(BodyLimitMiddleware, default=settings.http.max_body_bytes, routes=spec.body_limits)
    install_openapi(app, current_principal)
    # Wraps the completed document: the 413 goes on every operation that takes a body.
    document_body_limit(app)
    app.add_middleware(RequestContextMiddleware)
    # Outermost: an over-long URL or header section is refused before anything else runs.
    app.add_middleware(RequestLineLimitMiddleware)
    app.include_router(health_router({"database": runtime.database_ready, "nats": runtime.nats_ready}))
    app.include_router(metrics_router(spec.name))
    for router in spec.routers:
        app.include_router(router, prefix="/api/v1")
    app.include_router(admin_router(), prefix="/api/v1")
    return app
