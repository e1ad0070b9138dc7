"""Problem details, tokens, request context, the unit of work and health — through a real app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from joserfc import jws, jwt
from joserfc.jwk import OctKey, OKPKey
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import (
    CurrentPrincipal,
    Principal,
    TokenIssuer,
    TokenVerifier,
    require_role,
)
from yiwang_common.config import AuthSettings, DatabaseSettings, ServiceSettings
from yiwang_common.db import create_engine, get_session
from yiwang_common.events import MessagingTables
from yiwang_common.http import NotFound, Problem, problem_responses
from yiwang_common.http.problems import Unauthorized
from yiwang_common.observability import current_correlation_id
from yiwang_common.runtime import ServiceSpec, create_service_app
from yiwang_common.testing import ephemeral_auth


class Teapot(Problem):
    status = 418
    code = "teapot"
    title = "我是茶壶"


class Body(BaseModel):
    name: str = Field(min_length=1, max_length=10)


router = APIRouter(tags=["probe"])


@router.get("/boom", responses=problem_responses(NotFound))
async def boom() -> None:
    raise RuntimeError("secret internal detail")


@router.get("/teapot")
async def teapot() -> None:
    raise Teapot("就是茶壶", brewing=True)


@router.post("/echo")
async def echo(body: Body, principal: CurrentPrincipal) -> dict[str, str | None]:
    return {"name": body.name, "who": principal.sub, "correlation": current_correlation_id()}


@router.post("/staff-only")
async def staff_only(principal: Annotated[Principal, require_role("acceptor")]) -> dict[str, str]:
    return {"ok": principal.sub}


@router.post("/deferred/{name}")
async def deferred(
    name: str, session: Annotated[AsyncSession, Depends(get_session, scope="function")]
) -> dict[str, str]:
    # The unique constraint is deferred: the failure happens at COMMIT, after the endpoint returned.
    await session.execute(text("INSERT INTO probe_deferred (name) VALUES (:n)"), {"n": name})
    return {"stored": name}


@pytest.fixture
async def app(database_url: str, schema: tuple[object, MessagingTables]) -> AsyncIterator[FastAPI]:
    settings = ServiceSettings(
        service_name="probe",
        database=DatabaseSettings(url=database_url, schema_name="public"),
        run_workers=False,
        auth=ephemeral_auth(),
    )
    application = create_service_app(
        ServiceSpec(name="probe", title="probe", description="", routers=[router], tables=schema[1]), settings
    )
    async with application.state.runtime.engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS probe_deferred"))
        await conn.execute(
            text(
                "CREATE TABLE probe_deferred (name text, CONSTRAINT u UNIQUE (name) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    ) as c:
        yield c


def token(**overrides: object) -> str:
    principal = Principal(sub="u1", name="张三", kind="natural_person", roles=frozenset({"applicant"}))
    return TokenIssuer(ephemeral_auth()).issue(principal.model_copy(update=overrides))


class TestProblems:
    async def test_unexpected_error_is_a_generic_500_problem_without_internals(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.get("/api/v1/boom", headers={"X-Request-ID": "req-1"})
        assert r.status_code == 500
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["code"] == "internal_error" and body["request_id"] == "req-1"
        assert "secret" not in r.text

    async def test_domain_problem_keeps_its_members(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/teapot")
        assert r.status_code == 418
        assert r.json() == {
            "type": "/problems/teapot",
            "title": "我是茶壶",
            "status": 418,
            "code": "teapot",
            "detail": "就是茶壶",
            "instance": "/api/v1/teapot",
            "request_id": r.headers["x-request-id"],
            "brewing": True,
        }

    def test_extension_members_cannot_replace_standard_ones(self) -> None:
        body = Teapot("茶", status="completed", type="x", code="y", brewing=True).body("/p")
        assert body["status"] == 418 and body["type"] == "/problems/teapot" and body["code"] == "teapot"
        assert body["brewing"] is True

    def test_too_many_requests_carries_retry_after(self) -> None:
        from yiwang_common.http.problems import TooManyRequests

        problem = TooManyRequests("稍后", retry_after=7)
        assert problem.headers == {"Retry-After": "7"}
        assert problem.body()["retry_after"] == 7 and problem.body()["status"] == 429

    async def test_validation_error_lists_fields_without_echoing_input(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.post(
            "/api/v1/echo", json={"name": "x" * 50}, headers={"Authorization": f"Bearer {token()}"}
        )
        assert r.status_code == 422
        body = r.json()
        assert body["code"] == "validation_failed"
        assert body["errors"][0]["loc"] == ["body", "name"]
        assert "x" * 50 not in r.text

    async def test_unknown_route_and_method_are_problems(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/nope")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        r = await client.delete("/api/v1/teapot")
        assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"

    def test_openapi_declares_problem_responses(self, app: FastAPI) -> None:
        responses = app.openapi()["paths"]["/api/v1/boom"]["get"]["responses"]
        assert "application/problem+json" in responses["404"]["content"]


class TestTokens:
    async def test_valid_token_and_correlation_id_reach_the_endpoint(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/api/v1/echo",
            json={"name": "a"},
            headers={"Authorization": f"Bearer {token()}", "X-Correlation-ID": "530428202611230000017"},
        )
        assert r.status_code == 200
        assert r.json() == {"name": "a", "who": "u1", "correlation": "530428202611230000017"}

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "Basic abc",
            "Bearer not-a-jwt",
            "Bearer " + token()[:-3] + "xyz",
            # HS256 with a guessed secret, and "alg: none": neither is ever accepted.
            "Bearer "
            + jwt.encode(
                {"alg": "HS256", "kid": "k"}, {"sub": "u1", "kind": "staff"}, OctKey.import_key("s" * 32)
            ),
            "Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ1MSIsImlzcyI6Inlpd2FuZyJ9.",
        ],
    )
    async def test_missing_forged_or_foreign_tokens_get_401(
        self, client: httpx.AsyncClient, header: str | None
    ) -> None:
        headers = {"Authorization": header} if header else {}
        r = await client.post("/api/v1/echo", json={"name": "a"}, headers=headers)
        assert r.status_code == 401
        assert r.json()["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"

    def test_expired_token_and_wrong_audience_are_refused(self) -> None:
        verifier = TokenVerifier(ephemeral_auth())
        principal = Principal(sub="u1", name="n", kind="staff")
        expired = TokenIssuer(ephemeral_auth()).issue(principal, ttl_seconds=60)
        key = OKPKey.import_key(ephemeral_auth().private_key_pem.get_secret_value())
        header, claims = (
            jws.extract_compact(expired.encode()).headers(),
            jwt.decode(expired, key, algorithms=["Ed25519"]).claims,
        )
        # Past the verifier's leeway (clock skew), re-signed with the right key.
        claims["exp"] = int(time.time()) - ephemeral_auth().leeway_seconds - 10
        resigned = jwt.encode(header, claims, key, algorithms=["Ed25519"])
        with pytest.raises(Unauthorized):
            verifier.verify(resigned)
        other = TokenIssuer(ephemeral_auth(audience="elsewhere")).issue(principal)
        with pytest.raises(Unauthorized):
            verifier.verify(other)

    async def test_roles_are_enforced(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/api/v1/staff-only", headers={"Authorization": f"Bearer {token()}"})
        assert r.status_code == 403
        staff = token(kind="staff", roles=frozenset({"acceptor"}), org_code="11530428015176456L")
        r = await client.post("/api/v1/staff-only", headers={"Authorization": f"Bearer {staff}"})
        assert r.status_code == 200


class TestUnitOfWork:
    async def test_failed_commit_is_a_5xx_never_a_2xx(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        assert (await client.post("/api/v1/deferred/a")).status_code == 200
        r = await client.post("/api/v1/deferred/a")
        assert r.status_code == 500
        assert r.headers["content-type"] == "application/problem+json"
        async with app.state.runtime.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM probe_deferred"))).scalar() == 1


class TestHealth:
    async def test_liveness_and_readiness(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
        for _ in range(100):
            r = await client.get("/readyz")
            if r.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 200 and r.json()["checks"] == {"database": True, "nats": True}

    async def test_readiness_is_a_503_problem_when_the_database_is_gone(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        runtime = app.state.runtime
        healthy = runtime.engine
        runtime.engine = create_engine(
            DatabaseSettings(url="postgresql://postgres@127.0.0.1:1/none", schema_name="x")
        )
        try:
            r = await client.get("/readyz")
        finally:
            await runtime.engine.dispose()
            runtime.engine = healthy
        assert r.status_code == 503
        assert r.json()["checks"]["database"] is False


class TestSettings:
    def test_suite_wide_urls_fill_in_service_settings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DATABASE_URL", "postgresql://db/yiwang")
        monkeypatch.setenv("NATS_URL", "nats://bus:4222")
        s = ServiceSettings(service_name="data-sharing")
        assert s.db_url == "postgresql://db/yiwang"
        assert s.database.schema_name == "datasharing"
        assert s.nats.url == "nats://bus:4222"

    def test_no_database_is_a_clear_error_not_a_fallback(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
        s = ServiceSettings(service_name="gateway", var_dir=tmp_path)
        with pytest.raises(ValueError, match="DATABASE_URL"):
            _ = s.db_url

    def test_only_postgresql_urls_are_accepted(self) -> None:
        with pytest.raises(ValueError, match="only PostgreSQL"):
            create_engine(DatabaseSettings(url="mysql://db/yiwang", schema_name="x"))

    def test_service_nats_setting_keeps_the_suite_url(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NATS_URL", "nats://nats:4222")
        monkeypatch.setenv("PROBE_NATS__STREAM_REPLICAS", "3")

        class ProbeSettings(ServiceSettings):
            model_config = SettingsConfigDict(env_prefix="PROBE_", env_nested_delimiter="__")

        s = ProbeSettings(service_name="probe")
        assert s.nats.stream_replicas == 3
        assert s.nats.url == "nats://nats:4222"

    def test_issuer_and_verifier_refuse_to_work_without_a_key(self) -> None:
        with pytest.raises(ValueError, match="private_key_pem"):
            TokenIssuer(AuthSettings())
        with pytest.raises(ValueError, match="public_key_pem"):
            TokenVerifier(AuthSettings())
