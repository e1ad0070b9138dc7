"""Tokens the OIDC way (ADR 0103): discovery, JWKS, refresh rotation and reuse detection,
revocation by sign-out and password change, SMS codes, key rotation, and every bad token → 401."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway_support import MIGRATIONS, Accounts, make_settings
from joserfc import jws, jwt
from joserfc.jwk import OKPKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import ROLE_ADMIN, Principal, TokenIssuer, TokenVerifier
from yiwang_common.config import AuthSettings, DatabaseSettings
from yiwang_common.db import session_scope, utcnow
from yiwang_common.http.problems import Unauthorized
from yiwang_common.keys import generate_keypair
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import bearer, ephemeral_auth
from yiwang_gateway.identity.models import AuthSession, SmsChallenge
from yiwang_gateway.identity.schemas import SMS_GRANT
from yiwang_gateway.main import create_app

TOKEN = "/api/v1/auth/token"
SMS_LOGGER = "yiwang_gateway.identity.sms"


async def password_grant(
    client: httpx.AsyncClient, username: str = "zhangsan", password: str = "demo123"
) -> Any:
    r = await client.post(TOKEN, data={"grant_type": "password", "username": username, "password": password})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    return r.json()


async def refresh_grant(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": token})


def bearer_of(body: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def assert_invalid_grant(r: httpx.Response) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_grant"
    assert r.json()["error"] == "invalid_grant"


class TestDiscoveryAndJwks:
    async def test_discovery_names_the_jwks_and_the_endpoints(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/.well-known/openid-configuration")
        assert r.status_code == 200
        doc = r.json()
        assert doc["issuer"] == ephemeral_auth().issuer
        assert doc["jwks_uri"] == "http://test/.well-known/jwks.json"
        assert doc["token_endpoint"] == "http://test/api/v1/auth/token"
        assert doc["revocation_endpoint"] == "http://test/api/v1/auth/revoke"
        assert {"password", "refresh_token", SMS_GRANT} <= set(doc["grant_types_supported"])
        assert doc["id_token_signing_alg_values_supported"] == ["Ed25519"]

    async def test_jwks_publishes_the_public_key_that_verifies_issued_tokens(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        r = await client.get("/.well-known/jwks.json")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/jwk-set+json")
        keys = r.json()["keys"]
        assert keys and all(set(k) == {"kty", "crv", "x", "kid", "alg", "use"} for k in keys)
        assert all("d" not in k for k in keys)  # never the private half
        body = await password_grant(client)
        header = jws.extract_compact(body["access_token"].encode()).headers()
        assert header["typ"] == "at+jwt" and header["alg"] == "Ed25519"
        assert header["kid"] in {k["kid"] for k in keys}

    async def test_a_service_verifies_gateway_tokens_from_the_jwks_over_http(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        settings = AuthSettings(jwks_url="http://test/.well-known/jwks.json")
        verifier = TokenVerifier(settings, http_client=client)
        body = await password_grant(client)
        principal = await verifier.averify(body["access_token"])
        assert principal.sub == str(accounts.zhangsan.id)
        assert principal.session_id == body["session_id"]
        assert verifier.source(settings.issuer).fetches == 1  # type: ignore[attr-defined]
        # Cached: a second token of the same key needs no fetch.
        await verifier.averify((await password_grant(client))["access_token"])
        assert verifier.source(settings.issuer).fetches == 1  # type: ignore[attr-defined]


class TestBadAccessTokensAre401:
    """Every token that must not pass gets the same 401 problem+json at a protected endpoint."""

    @staticmethod
    def _resign(token: str, key: OKPKey, **changes: Any) -> str:
        compact = jws.extract_compact(token.encode())
        header = dict(compact.headers())
        claims = json.loads(compact.payload)
        header.update(changes.pop("header", {}))
        claims.update(changes)
        return jwt.encode(header, claims, key, algorithms=["Ed25519"])

    async def test_expired_forged_wrong_audience_issuer_kid_and_type_are_refused(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        good = (await password_grant(client))["access_token"]
        assert (
            await client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"})
        ).status_code == 200
        ours = OKPKey.import_key(ephemeral_auth().private_key_pem.get_secret_value())
        stranger = OKPKey.import_key(generate_keypair()[0])
        past = int(time.time()) - ephemeral_auth().leeway_seconds - 60
        bad = {
            "expired": self._resign(good, ours, exp=past, iat=past - 300),
            "forged (another key, same kid)": self._resign(good, stranger),
            "wrong audience": self._resign(good, ours, aud="another-platform"),
            "wrong issuer": self._resign(good, ours, iss="https://elsewhere.example"),
            "unknown kid": self._resign(good, stranger, header={"kid": "no-such-key"}),
            "no kid": jwt.encode(
                {"alg": "Ed25519", "typ": "at+jwt"}, {"sub": "x"}, ours, algorithms=["Ed25519"]
            ),
            "not an access token (typ)": self._resign(good, ours, header={"typ": "JWT"}),
            "tampered payload": good.split(".")[0]
            + "."
            + good.split(".")[1][:-2]
            + "AA."
            + good.split(".")[2],
        }
        for name, token in bad.items():
            r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, name
            assert r.headers["content-type"] == "application/problem+json", name
            assert r.json()["code"] == "unauthorized", name
            assert r.json()["title"].startswith("未登录"), name


class TestRefreshRotation:
    async def test_each_refresh_spends_the_token_and_hands_out_the_next(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        first = await password_grant(client)
        r = await refresh_grant(client, first["refresh_token"])
        assert r.status_code == 200, r.text
        second = r.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert second["session_id"] == first["session_id"]
        assert (await client.get("/api/v1/me", headers=bearer_of(second))).status_code == 200
        r = await refresh_grant(client, second["refresh_token"])
        assert r.status_code == 200

    async def test_a_replayed_refresh_token_revokes_the_whole_family(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        first = await password_grant(client)
        second = (await refresh_grant(client, first["refresh_token"])).json()
        # The stolen copy of the first token comes back: reuse.
        assert_invalid_grant(await refresh_grant(client, first["refresh_token"]))
        # The legitimate holder's newer token died with the family.
        assert_invalid_grant(await refresh_grant(client, second["refresh_token"]))
        async with session_scope(sessionmaker) as session:
            record = await session.get(AuthSession, uuid.UUID(first["session_id"]))
            assert record is not None and record.revoked_at is not None
            assert record.revoke_reason == "refresh_token_reused"
        # Another session of the same account is not touched.
        other = await password_grant(client)
        assert (await refresh_grant(client, other["refresh_token"])).status_code == 200

    async def test_unknown_expired_and_malformed_refresh_tokens(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        assert_invalid_grant(await refresh_grant(client, "not-a-token"))
        body = await password_grant(client)
        async with session_scope(sessionmaker) as session:
            await session.execute(
                update(AuthSession)
                .where(AuthSession.id == uuid.UUID(body["session_id"]))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert_invalid_grant(await refresh_grant(client, body["refresh_token"]))
        r = await client.post(TOKEN, data={"grant_type": "refresh_token"})
        assert r.status_code == 422 and r.json()["code"] == "validation_failed"
        r = await client.post(TOKEN, data={"grant_type": "client_credentials"})
        assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
        r = await client.post(TOKEN, content=b"x", headers={"content-type": "text/plain"})
        assert r.status_code == 400 and r.json()["code"] == "invalid_request"


class TestRevocation:
    async def test_sign_out_ends_this_session_and_everywhere_ends_all(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        phone, laptop = await password_grant(client), await password_grant(client)
        r = await client.post("/api/v1/auth/sign-out", headers=bearer_of(phone))
        assert r.status_code == 200 and r.json() == {"sessions_ended": 1}
        assert_invalid_grant(await refresh_grant(client, phone["refresh_token"]))
        assert (await refresh_grant(client, laptop["refresh_token"])).status_code == 200
        tablet = await password_grant(client)
        r = await client.post("/api/v1/auth/sign-out", headers=bearer_of(tablet), json={"everywhere": True})
        assert r.status_code == 200 and r.json()["sessions_ended"] >= 2
        laptop_now = await password_grant(client, "zhangsan")  # a new sign-in still works
        assert (await refresh_grant(client, laptop_now["refresh_token"])).status_code == 200
        assert_invalid_grant(await refresh_grant(client, tablet["refresh_token"]))
        assert (await client.post("/api/v1/auth/sign-out")).status_code == 401

    async def test_revocation_endpoint_ends_the_family_and_tells_nothing_about_unknown_tokens(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        body = await password_grant(client)
        r = await client.post("/api/v1/auth/revoke", json={"token": body["refresh_token"]})
        assert r.status_code == 200
        assert_invalid_grant(await refresh_grant(client, body["refresh_token"]))
        assert (await client.post("/api/v1/auth/revoke", json={"token": "unknown"})).status_code == 200

    async def test_password_change_ends_every_session_and_the_old_password(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        one, two = await password_grant(client, "lisi"), await password_grant(client, "lisi")
        change = {"current_password": "wrong-one", "new_password": "a-new-Passw0rd"}
        r = await client.post("/api/v1/auth/password", headers=bearer_of(one), json=change)
        assert r.status_code == 403 and r.json()["code"] == "current_password_wrong"
        change["current_password"] = "demo123"
        r = await client.post("/api/v1/auth/password", headers=bearer_of(one), json=change)
        assert r.status_code == 200, r.text
        assert r.json()["sessions_ended"] == 2
        for body in (one, two):
            assert_invalid_grant(await refresh_grant(client, body["refresh_token"]))
        r = await client.post(TOKEN, data={"username": "lisi", "password": "demo123"})
        assert r.status_code == 401
        assert (await password_grant(client, "lisi", "a-new-Passw0rd"))["access_token"]


class TestPasswordHashUpgrade:
    async def test_a_sign_in_rehashes_a_legacy_scrypt_hash(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        from yiwang_gateway.account.models import Account

        legacy = "scrypt$16384$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$" + _scrypt_b64("demo123", b"0123456789abcdef")
        async with session_scope(sessionmaker) as session:
            await session.execute(
                update(Account).where(Account.username == "lisi").values(password_hash=legacy)
            )
        await password_grant(client, "lisi")
        async with session_scope(sessionmaker) as session:
            stored = (
                await session.execute(select(Account.password_hash).where(Account.username == "lisi"))
            ).scalar()
        assert stored is not None and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def _scrypt_b64(password: str, salt: bytes) -> str:
    import base64
    import hashlib

    return base64.b64encode(
        hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    ).decode()


def sms_code_from(caplog: pytest.LogCaptureFixture) -> str:
    """The code the development sender wrote to the log (the only place it exists in clear)."""
    messages = [r.getMessage() for r in caplog.records if r.name == SMS_LOGGER]
    assert messages, "the development SMS sender logged nothing"
    found = re.search(r"验证码为 (\d{6})", messages[-1])
    assert found, messages[-1]
    return found.group(1)


class TestSmsSignIn:
    async def test_a_code_signs_in_once(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        caplog: pytest.LogCaptureFixture,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        caplog.set_level(logging.INFO, logger=SMS_LOGGER)
        r = await client.post("/api/v1/auth/sms-code", json={"phone": "13800000001"})
        assert r.status_code == 202, r.text
        assert r.json() == {"expires_in": 300, "resend_after": 60}
        code = sms_code_from(caplog)
        async with session_scope(sessionmaker) as session:
            stored = (await session.execute(select(SmsChallenge))).scalars().all()
        assert len(stored) == 1
        assert code not in stored[0].code_hash and "13800000001" not in stored[0].phone_key  # hashed at rest
        grant = {"grant_type": SMS_GRANT, "phone": "13800000001", "code": code}
        r = await client.post(TOKEN, data=grant)
        assert r.status_code == 200, r.text
        assert r.json()["principal"]["sub"] == str(accounts.zhangsan.id)
        r = await client.post(TOKEN, data=grant)
        assert r.status_code == 401 and r.json()["code"] == "invalid_sms_code"

    async def test_an_expired_code_is_refused(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        caplog: pytest.LogCaptureFixture,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        caplog.set_level(logging.INFO, logger=SMS_LOGGER)
        assert (await client.post("/api/v1/auth/sms-code", json={"phone": "13800000001"})).status_code == 202
        code = sms_code_from(caplog)
        async with session_scope(sessionmaker) as session:
            await session.execute(update(SmsChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
        r = await client.post(TOKEN, data={"grant_type": SMS_GRANT, "phone": "13800000001", "code": code})
        assert r.status_code == 401 and r.json()["code"] == "invalid_sms_code"

    async def test_wrong_codes_spend_the_challenge(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        caplog: pytest.LogCaptureFixture,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        caplog.set_level(logging.INFO, logger=SMS_LOGGER)
        assert (await client.post("/api/v1/auth/sms-code", json={"phone": "13800000001"})).status_code == 202
        code = sms_code_from(caplog)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):  # identity.sms.max_attempts
            r = await client.post(
                TOKEN, data={"grant_type": SMS_GRANT, "phone": "13800000001", "code": wrong}
            )
            assert r.status_code == 401
        r = await client.post(TOKEN, data={"grant_type": SMS_GRANT, "phone": "13800000001", "code": code})
        # Refused either way: the challenge is spent, and five failures also slow the number down.
        assert r.status_code in (401, 429), "the right code after the last try must not work"
        async with session_scope(sessionmaker) as session:
            challenge = (await session.execute(select(SmsChallenge))).scalar_one()
        assert challenge.attempts == 5 and challenge.consumed_at is not None

    async def test_codes_are_throttled_and_unknown_numbers_answer_the_same(
        self, client: httpx.AsyncClient, accounts: Accounts, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger=SMS_LOGGER)
        known = await client.post("/api/v1/auth/sms-code", json={"phone": "13800000001"})
        unknown = await client.post("/api/v1/auth/sms-code", json={"phone": "13900000009"})
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        assert (
            len([r for r in caplog.records if r.name == SMS_LOGGER]) == 1
        )  # only a real account gets a text
        again = await client.post("/api/v1/auth/sms-code", json={"phone": "13800000001"})
        assert again.status_code == 429
        assert again.json()["code"] == "sms_throttled"
        assert 1 <= int(again.headers["retry-after"]) <= 60
        bad = await client.post("/api/v1/auth/sms-code", json={"phone": "12345"})
        assert bad.status_code == 422


@pytest.fixture
async def lockout_app(database_url: str) -> AsyncIterator[FastAPI]:
    limits = {"account_free_failures": 2, "account_lockout_failures": 3, "backoff_base_seconds": 600}
    application = create_app(make_settings(database_url, login=limits))
    async with application.router.lifespan_context(application):
        yield application


class TestSmsLockout:
    async def test_wrong_codes_lock_the_number_like_wrong_passwords_lock_the_name(
        self, lockout_app: FastAPI, accounts: Accounts, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger=SMS_LOGGER)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=lockout_app), base_url="http://test"
        ) as c:
            assert (await c.post("/api/v1/auth/sms-code", json={"phone": "13800000001"})).status_code == 202
            code = sms_code_from(caplog)
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            statuses = []
            for _ in range(3):
                r = await c.post(TOKEN, data={"grant_type": SMS_GRANT, "phone": "13800000001", "code": wrong})
                statuses.append(r.status_code)
            # Two free failures, then the number is blocked: the right code is not even checked.
            assert statuses == [401, 401, 429]
            r = await c.post(TOKEN, data={"grant_type": SMS_GRANT, "phone": "13800000001", "code": code})
            assert r.status_code == 429 and r.json()["code"] == "login_throttled"
            # Asking for a new code does not unlock it either.
            r = await c.post("/api/v1/auth/sms-code", json={"phone": "13800000001"})
            assert r.status_code == 429


@pytest.fixture
async def rotating_app(fresh_database_url: str) -> AsyncIterator[FastAPI]:
    """A gateway on a database of its own: rotating the shared one would change other tests' key."""
    await upgrade_database(DatabaseSettings(url=fresh_database_url, schema_name="gateway"), MIGRATIONS)
    application = create_app(make_settings(fresh_database_url))
    async with application.router.lifespan_context(application):
        yield application


class TestKeyRotation:
    ADMIN = Principal(sub=str(uuid.uuid4()), name="中心管理员", kind="staff", roles=frozenset({ROLE_ADMIN}))

    async def test_the_next_key_is_published_before_it_signs(self, rotating_app: FastAPI) -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=rotating_app), base_url="http://test"
        ) as c:
            issuer: TokenIssuer = rotating_app.state.token_issuer
            before = {k["kid"] for k in (await c.get("/.well-known/jwks.json")).json()["keys"]}
            assert len(before) == 1
            r = await c.post(
                "/api/v1/admin/signing-keys", json={"lead_seconds": 600}, headers=bearer(self.ADMIN)
            )
            assert r.status_code == 201, r.text
            states = {k["state"] for k in r.json()}
            assert states == {"active", "next"}
            after = {k["kid"] for k in (await c.get("/.well-known/jwks.json")).json()["keys"]}
            assert before < after and len(after) == 2
            # Still signing with the old key: verifiers may not have fetched the new one yet.
            token = issuer.issue(self.ADMIN)
            assert jws.extract_compact(token.encode()).headers()["kid"] in before
            r = await c.post(
                "/api/v1/admin/signing-keys", json={"lead_seconds": 0}, headers=bearer(self.ADMIN)
            )
            assert r.status_code == 409 and r.json()["code"] == "rotation_pending"

    async def test_tokens_of_the_old_key_verify_until_they_expire(self, rotating_app: FastAPI) -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=rotating_app), base_url="http://test"
        ) as c:
            issuer: TokenIssuer = rotating_app.state.token_issuer
            url = "http://test/.well-known/jwks.json"
            remote = TokenVerifier(AuthSettings(jwks_url=url, jwks_min_refresh_seconds=0), http_client=c)
            # Fetches at most once per 10 s: why a rotation publishes its key long before it signs.
            limited = TokenVerifier(AuthSettings(jwks_url=url), http_client=c)
            old_token = issuer.issue(self.ADMIN)
            old_kid = jws.extract_compact(old_token.encode()).headers()["kid"]
            assert (await remote.averify(old_token)).sub == self.ADMIN.sub
            assert (await limited.averify(old_token)).sub == self.ADMIN.sub
            r = await c.post(
                "/api/v1/admin/signing-keys", json={"lead_seconds": 0}, headers=bearer(self.ADMIN)
            )
            assert r.status_code == 201
            new_token = issuer.issue(self.ADMIN)
            new_kid = jws.extract_compact(new_token.encode()).headers()["kid"]
            assert new_kid != old_kid
            jwks = {k["kid"] for k in (await c.get("/.well-known/jwks.json")).json()["keys"]}
            assert jwks == {old_kid, new_kid}
            # A verifier that cached the old set meets the new kid, fetches once, and knows both.
            fetches = remote.source(remote.issuers[0]).fetches  # type: ignore[attr-defined]
            assert (await remote.averify(new_token)).sub == self.ADMIN.sub
            assert remote.source(remote.issuers[0]).fetches == fetches + 1  # type: ignore[attr-defined]
            assert (await remote.averify(old_token)).sub == self.ADMIN.sub
            with pytest.raises(Unauthorized):
                await limited.averify(new_token)
            for token in (old_token, new_token):
                assert (
                    await c.get("/api/v1/admin/signing-keys", headers={"Authorization": f"Bearer {token}"})
                ).status_code == 200
            # The old key leaves the JWKS once every token it signed has expired.
            keys = {
                k["kid"]: k
                for k in (await c.get("/api/v1/admin/signing-keys", headers=bearer(self.ADMIN))).json()
            }
            assert keys[old_kid]["state"] == "retiring" and keys[new_kid]["state"] == "active"
            auth = rotating_app.state.settings.auth
            old = next(k for k in issuer.keys if k.kid == old_kid)
            assert old.retire_at is not None
            assert old.retire_at - time.time() <= auth.token_ttl_seconds + auth.leeway_seconds + 5
            later = old.retire_at + 1
            assert {k["kid"] for k in issuer.jwks(now=later)["keys"]} == {new_kid}

    async def test_a_restarted_gateway_keeps_its_rotated_ring(
        self, rotating_app: FastAPI, fresh_database_url: str
    ) -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=rotating_app), base_url="http://test"
        ) as c:
            r = await c.post(
                "/api/v1/admin/signing-keys", json={"lead_seconds": 0}, headers=bearer(self.ADMIN)
            )
            assert r.status_code == 201
            ring = {k["kid"] for k in (await c.get("/.well-known/jwks.json")).json()["keys"]}
        again = create_app(make_settings(fresh_database_url))
        async with again.router.lifespan_context(again):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=again), base_url="http://test"
            ) as c:
                assert {k["kid"] for k in (await c.get("/.well-known/jwks.json")).json()["keys"]} == ring
            signing = again.state.token_issuer.current_key().kid
            assert signing == rotating_app.state.token_issuer.current_key().kid

    async def test_only_administrators_rotate(self, rotating_app: FastAPI) -> None:
        citizen = Principal(
            sub=str(uuid.uuid4()), name="张三", kind="natural_person", roles=frozenset({"applicant"})
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=rotating_app), base_url="http://test"
        ) as c:
            assert (await c.post("/api/v1/admin/signing-keys")).status_code == 401
            assert (await c.post("/api/v1/admin/signing-keys", headers=bearer(citizen))).status_code == 403


async def test_the_cli_lists_and_rotates_the_ring(
    fresh_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from yiwang_gateway.cli import _signing_keys

    await upgrade_database(DatabaseSettings(url=fresh_database_url, schema_name="gateway"), MIGRATIONS)
    settings = make_settings(fresh_database_url)
    assert await _signing_keys(settings, argparse.Namespace(action="list", lead=None)) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [k["state"] for k in listed] == ["active"]
    assert await _signing_keys(settings, argparse.Namespace(action="rotate", lead=120)) == 0
    rotated = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [k["state"] for k in rotated] == ["active", "next"]
    assert rotated[0]["kid"] == listed[0]["kid"] and rotated[0]["retire_at"]


async def test_production_never_writes_codes_to_the_log() -> None:
    from yiwang_gateway.identity.sms import LogSmsSender, SmsUnavailable, load_sender

    assert isinstance(load_sender("log"), LogSmsSender)
    with pytest.raises(SmsUnavailable):
        await load_sender("log", production=True).send("13800000001", "验证码为 123456")
    with pytest.raises(ValueError, match="cannot load"):
        load_sender("no.such.module:Sender")
