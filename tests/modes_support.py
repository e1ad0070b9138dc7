"""部署模式 Support of the deployment-mode tests: platforms on one machine (ADR 0114).

Each platform is a gateway app of its own: its own PostgreSQL database, its own NATS JetStream
server (its relay publishes the platform's events there), its own signing key, issuer and region
code. The platforms talk over HTTP — the province's ``/authorize`` and token endpoint, the
peers' token endpoints, every issuer's JWKS — through one transport that routes a host name to
that platform's app, so nothing between them is faked.

- 统分 semi-unified: accounts live at the province; a city portal delegates sign-in to it by the
  authorization code flow with PKCE and links a local account from the ID token.
- 分建 split: each platform keeps its accounts; a citizen of the city signs in at the province
  and back (mutual recognition), without registering twice.
- 统建 unified: one platform for the province and its cities; nothing is delegated or recognised,
  even when peers are configured.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import nats.js.errors
from fastapi import FastAPI
from joserfc.jwk import OKPKey
from nats.aio.client import Client as NatsClient
from sqlalchemy import text

import yiwang_gateway
from scripts.stack import Stack, free_port
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events.streams import stream_name
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database, fresh_streams, outbox_events
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.passwords import hash_password_sync
from yiwang_gateway.application.models import Application
from yiwang_gateway.config import Settings as GatewaySettings
from yiwang_gateway.db import messaging
from yiwang_gateway.main import FEDERATION_TRANSPORT_KEY, create_app

PASSWORD = "demo-123456"
AUDIT = "yiwang.gateway.audit.recorded.v1"


def _keypair() -> tuple[str, str]:
    key = OKPKey.generate_key("Ed25519")
    return key.as_pem(private=True).decode(), key.as_pem(private=False).decode()


def host(name: str) -> str:
    return f"http://{name}.test"


class Hosts(httpx.AsyncBaseTransport):
    """Routes a request to the app of the platform its host names (``province.test`` …)."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        transport = self.apps.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no platform at {request.url.host}", request=request)
        return await transport.handle_async_request(request)


@dataclass
class Platform:
    """One platform: its gateway app, database and issuer."""

    name: str
    region: str
    app: FastAPI
    database_url: str
    nats_url: str
    nc: NatsClient
    users: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return host(self.name)

    @property
    def url(self) -> str:
        return host(self.name)

    async def add_account(
        self, username: str, *, kind: str = "natural_person", name: str = "", phone: str | None = None
    ) -> uuid.UUID:
        """A citizen (or a staff member) registered on this platform."""
        account_id = uuid.uuid4()
        async with session_scope(self.app.state.sessionmaker) as session:
            session.add(
                Account(
                    id=account_id,
                    username=username,
                    password_hash=hash_password_sync(PASSWORD),
                    kind=kind,
                    name=name or username,
                    roles=["applicant"] if kind != "staff" else [],
                    realname_level="L2" if kind != "staff" else None,
                    active=True,
                    phone=phone,
                )
            )
        self.users[username] = account_id
        return account_id

    async def add_case(self, applicant_id: str, case_no: str) -> None:
        """A case of this platform's portal (an application management has registered)."""
        async with session_scope(self.app.state.sessionmaker) as session:
            session.add(
                Application(
                    id=uuid.uuid4(),
                    applicant_id=applicant_id,
                    applicant={"account_id": applicant_id, "name": "申请人", "kind": "natural_person"},
                    item_code="11530400MB0000000X4000000000001",
                    item_name="测试事项",
                    form={},
                    materials=[],
                    status="pending_acceptance",
                    case_no=case_no,
                    submitted_at=utcnow(),
                )
            )

    async def published(self) -> list[dict[str, Any]]:
        """The gateway events this platform's relay has published on its own NATS server."""
        js = self.nc.jetstream()
        name = stream_name("gateway")
        last = (await js.stream_info(name)).state.last_seq
        events = []
        for seq in range(1, last + 1):
            try:
                message = await js.get_msg(name, seq)
            except nats.js.errors.NotFoundError:
                continue
            events.append(json.loads(message.data or b"{}"))
        return events

    async def audits(self) -> list[dict[str, Any]]:
        rows = await outbox_events(self.app.state.sessionmaker, messaging.outbox, AUDIT)
        return [envelope["data"] for _, envelope in rows]


Configure = Callable[[str], dict[str, Any]]
Spec = tuple[str, str, str, Configure]

#: Rows a test leaves behind; the key ring (signing_key) stays, as a restart would find it.
TABLES = (
    "account, application, timeline_entry, outbox, inbox, login_throttle, sms_challenge,"
    " staff_assignment, delegated_login, logout_delivery, logout_token_seen"
)


class Federation:
    """Platforms of one test module: built once, emptied before each test."""

    def __init__(self) -> None:
        self.hosts = Hosts()
        self.platforms: dict[str, Platform] = {}
        self._urls: list[str] = []
        self._contexts: list[Any] = []
        self._connections: list[NatsClient] = []
        # One NATS JetStream server per platform, started here as the launcher starts them:
        # two platforms never share a server or a stream.
        self._servers: list[Stack] = []

    async def build(self, specs: Iterable[Spec]) -> dict[str, Platform]:
        specs = list(specs)
        keys = {name: _keypair() for name, _, _, _ in specs}
        for name, region, mode, configure in specs:
            server = Stack(var_dir=Path(tempfile.mkdtemp(prefix=f"yiwang-modes-{name}-")))
            self._servers.append(server)
            nats = server.ensure_nats(free_port())
            nc = NatsClient()
            await nc.connect(nats)
            self._connections.append(nc)
            await fresh_streams(nc.jetstream(), "gateway", "management")
            url = await create_database(f"yiwang_test_modes_{name}")
            self._urls.append(url)
            await upgrade_database(
                DatabaseSettings(url=url, schema_name="gateway"),
                Path(yiwang_gateway.__file__).parent / "migrations",
            )
            private_pem, public_pem = keys[name]
            overrides = configure(name)
            trusted = [
                {"issuer": host(other), "jwks_url": host(other) + "/.well-known/jwks.json"}
                for other in overrides.pop("trusts", [])
            ]
            level = "provincial" if region.endswith("0000") else "city"
            settings = GatewaySettings(
                database={"url": url, "schema_name": "gateway"},
                nats={"url": nats},
                run_workers=True,
                env="test",
                portal_url=host(name),
                platform={"region_code": region, "level": level, "deployment_mode": mode},
                auth={
                    "issuer": host(name),
                    "private_key_pem": private_pem,
                    "public_key_pem": public_pem,
                    "trusted_issuers": trusted,
                },
                **overrides,
            )
            app = create_app(settings)
            setattr(app.state, FEDERATION_TRANSPORT_KEY, self.hosts)
            context = app.router.lifespan_context(app)
            await context.__aenter__()
            self._contexts.append(context)
            self.hosts.apps[f"{name}.test"] = httpx.ASGITransport(app=app)
            self.platforms[name] = Platform(name, region, app, url, nats, nc)
        return self.platforms

    async def empty(self) -> None:
        """Every platform as new: no accounts, sessions, cases, codes or events."""
        self.hosts.requests.clear()
        for platform in self.platforms.values():
            platform.users.clear()
            async with session_scope(platform.app.state.sessionmaker) as session:
                await session.execute(text(f"TRUNCATE {TABLES} CASCADE"))

    async def close(self) -> None:
        for context in reversed(self._contexts):
            await context.__aexit__(None, None, None)
        for nc in self._connections:
            await nc.close()
        for server in self._servers:
            server.stop()
            shutil.rmtree(server.var_dir, ignore_errors=True)
        for url in self._urls:
            await drop_database(url)


@asynccontextmanager
async def federation(specs: Iterable[Spec]) -> AsyncIterator[Federation]:
    """Build the platforms, and tear them down after the module."""
    built = Federation()
    try:
        await built.build(specs)
        yield built
    finally:
        await built.close()


def browser(hosts: Hosts) -> httpx.AsyncClient:
    """A browser: one cookie jar across every platform's host, redirects followed by hand."""
    return httpx.AsyncClient(transport=hosts, follow_redirects=False)


def api(platform: Platform, hosts: Hosts) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=hosts, base_url=platform.url + "/api/v1")


async def password_token(
    platform: Platform, hosts: Hosts, username: str, password: str = PASSWORD
) -> httpx.Response:
    async with api(platform, hosts) as client:
        return await client.post(
            "/auth/token", data={"grant_type": "password", "username": username, "password": password}
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


CITY = "city"  # 玉溪市 530400
OTHER_CITY = "othercity"  # 昆明市 530100


#: Where every platform takes logout tokens (ADR 0116).
BACKCHANNEL_PATH = "/api/v1/auth/backchannel-logout"


def callback(name: str) -> str:
    """A city portal's registered redirect URI."""
    return host(name) + "/sign-in/oidc/callback"


def flow_params(city: Platform, challenge: str) -> dict[str, str]:
    """An authorization request of a city portal."""
    return {
        "response_type": "code",
        "client_id": f"portal-{city.name}",
        "redirect_uri": callback(city.name),
        "scope": "openid",
        "state": "s" * 20,
        "nonce": "n" * 20,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def split_with(*peers: str) -> Configure:
    """分建: recognise the accounts of ``peers`` (and trust their issuers)."""

    def configure(_: str) -> dict[str, Any]:
        return {
            "trusts": list(peers),
            "federation": {
                "peers": [
                    {
                        "issuer": host(peer),
                        "name": peer,
                        "token_endpoint": host(peer) + "/api/v1/auth/token",
                        "backchannel_logout_uri": host(peer) + BACKCHANNEL_PATH,
                    }
                    for peer in peers
                ]
            },
        }

    return configure


async def delegated_sign_in(b: httpx.AsyncClient, city: Platform, province: Platform, username: str) -> str:
    """The browser's whole round trip; returns the city's access token (its session cookie)."""
    start = await b.get(city.url + "/sign-in/oidc", params={"next": "/me"})
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(province.url + "/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [f"portal-{city.name}"]
    assert "code_verifier" not in authorize  # the verifier never leaves the city
    at_province = await b.get(authorize)
    if at_province.headers["location"].startswith("/sign-in"):
        # Not signed in at the province: its sign-in page, then back to /authorize.
        next_path = parse_qs(urlsplit(at_province.headers["location"]).query)["next"][0]
        signed_in = await b.post(
            province.url + "/sign-in/password",
            data={"username": username, "password": PASSWORD, "next": next_path},
            headers={"Origin": province.url},
        )
        assert signed_in.status_code == 303, signed_in.text
        at_province = await b.get(province.url + signed_in.headers["location"])
    assert at_province.status_code == 303, at_province.text
    back = at_province.headers["location"]
    assert back.startswith(callback(city.name) + "?code=")
    arrived = await b.get(back)
    assert arrived.status_code == 303, arrived.text
    assert arrived.headers["location"] == "/me"
    token = arrived.cookies.get("yiwang_session") or b.cookies.get(
        "yiwang_session", domain=f"{city.name}.test"
    )
    assert token
    return str(token)
