"""统分 semi-unified, a province and two city platforms on one machine (ADR 0114).

Accounts live at the province; a city portal delegates sign-in to it by the authorization code
flow with PKCE and links a local account from the ID token. Each platform has its own database,
NATS server, signing key, issuer and region (``modes_support``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import select

from tests.modes_support import (
    BACKCHANNEL_PATH,
    CITY,
    OTHER_CITY,
    PASSWORD,
    Federation,
    Platform,
    api,
    bearer,
    browser,
    callback,
    delegated_sign_in,
    federation,
    flow_params,
    host,
    password_token,
)
from yiwang_common.auth import BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TYPE, Principal
from yiwang_common.db import session_scope, utcnow
from yiwang_common.http.problems import Unauthorized
from yiwang_common.jwks import ALGORITHM
from yiwang_common.staff_session import csrf_token
from yiwang_gateway.account.models import Account
from yiwang_gateway.federation.models import FederatedSession, LogoutDelivery
from yiwang_gateway.federation.service import s256_challenge
from yiwang_gateway.identity.models import AuthSession
from yiwang_gateway.identity.repository import SessionRepository


def _province_semi(_: str) -> dict[str, Any]:
    return {
        "federation": {
            "clients": [
                {
                    "client_id": f"portal-{c}",
                    "name": c,
                    "redirect_uris": [callback(c)],
                    # Single logout (ADR 0116), as the launcher registers them.
                    "backchannel_logout_uri": host(c) + BACKCHANNEL_PATH,
                    "post_logout_redirect_uris": [host(c) + "/sign-in"],
                }
                for c in (CITY, OTHER_CITY)
            ]
        }
    }


def _city_semi(name: str) -> dict[str, Any]:
    return {
        "trusts": ["province"],
        "federation": {
            "upstream": {
                "issuer": host("province"),
                "authorization_endpoint": host("province") + "/authorize",
                "token_endpoint": host("province") + "/api/v1/auth/token",
                "client_id": f"portal-{name}",
                "redirect_uri": callback(name),
                "name": "云南省政务服务平台",
                "end_session_endpoint": host("province") + "/end-session",
                "post_logout_redirect_uri": host(name) + "/sign-in",
            }
        },
    }


@pytest.fixture(scope="module")
async def built() -> AsyncIterator[Federation]:
    specs = [
        ("province", "530000", "semi_unified", _province_semi),
        (CITY, "530400", "semi_unified", _city_semi),
        (OTHER_CITY, "530100", "semi_unified", _city_semi),
    ]
    async with federation(specs) as platforms:
        yield platforms


@pytest.fixture
async def semi(built: Federation) -> dict[str, Any]:
    await built.empty()
    platforms = built.platforms
    await platforms["province"].add_account("li_si", name="李四")
    await platforms["province"].add_account("sheng_staff", kind="staff", name="省窗口")
    return {"platforms": platforms, "hosts": built.hosts}


class TestSemiUnified:
    async def test_a_city_portal_signs_in_through_the_province_and_links_one_local_account(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        province, city = p["province"], p[CITY]
        async with browser(hosts) as b:
            token = await delegated_sign_in(b, city, province, "li_si")
        async with api(city, hosts) as client:
            me = await client.get("/me/cases", headers=bearer(token))
            assert me.status_code == 200, me.text
        # The city's own token (its issuer), for a local account linked to the province's.
        principal = await city.app.state.token_verifier.averify(token)
        assert principal.issuer == city.issuer and principal.kind == "natural_person"
        assert principal.name == "李四" and principal.realname_level == "L2"
        assert principal.sub != str(province.users["li_si"])
        # A second sign-in (a new browser) lands on the same local account: nobody registers twice.
        async with browser(hosts) as b:
            again = await city.app.state.token_verifier.averify(
                await delegated_sign_in(b, city, province, "li_si")
            )
        assert again.sub == principal.sub
        # Both sign-ins are in the audit logs: at the province (code flow) and at the city.
        province_audit = [a for a in await province.audits() if a["action"] == "sign_in"]
        assert {a["detail"]["method"] for a in province_audit} == {"password", "code"}
        city_audit = await city.audits()
        assert [a["detail"]["method"] for a in city_audit] == ["oidc", "oidc"]
        assert city_audit[0]["detail"]["issuer"] == city.issuer

        # Each platform's relay published its own records on its own NATS server only.
        async def on_the_citys_bus() -> bool:
            return any(e["data"].get("target_id") == principal.sub for e in await city.published())

        deadline = asyncio.get_running_loop().time() + 30
        while not await on_the_citys_bus():
            assert asyncio.get_running_loop().time() < deadline, "the city's audit event was not published"
            await asyncio.sleep(0.1)
        assert not any(e["data"].get("target_id") == principal.sub for e in await province.published())
        # The city's case list shows the citizen's city cases only.
        await city.add_case(principal.sub, "530400202612020000011")
        await city.add_case(str(uuid.uuid4()), "530400202612020000022")
        async with api(city, hosts) as client:
            listed = (await client.get("/me/cases", headers=bearer(token))).json()["items"]
        assert [c["case_no"] for c in listed] == ["530400202612020000011"]

    async def test_the_city_has_no_accounts_of_its_own_to_sign_in_with(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        # The province's account cannot sign in at the city with a password: accounts live there.
        refused = await password_token(p[CITY], hosts, "li_si")
        assert refused.status_code == 409 and refused.json()["code"] == "sign_in_at_province"
        async with browser(hosts) as b:
            page = await b.get(p[CITY].url + "/sign-in")
        assert "/sign-in/oidc" in page.text and "云南省政务服务平台" in page.text
        # Nobody registers at the city: the sign-up API says where to (before any registry lookup).
        async with api(p[CITY], hosts) as client:
            r = await client.post(
                "/registrations/natural-persons",
                json={
                    "username": "new_city_user",
                    "password": PASSWORD,
                    "name": "新用户",
                    "id_number": "53042819900101123X",
                    "mobile": "13800000009",
                },
            )
        assert r.status_code == 409 and r.json()["code"] == "register_at_province"

    async def test_another_city_cannot_read_this_citys_citizens_or_cases(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        async with browser(hosts) as b:
            token = await delegated_sign_in(b, p[CITY], p["province"], "li_si")
        sub = (await p[CITY].app.state.token_verifier.averify(token)).sub
        await p[CITY].add_case(sub, "530400202612020000033")
        async with api(p[OTHER_CITY], hosts) as client:
            r = await client.get("/me/cases", headers=bearer(token))
        assert r.status_code == 401 and "不受信任" in r.json()["detail"]
        # The same person at the other city is another local account there, and sees none of them.
        async with browser(hosts) as b:
            other = await delegated_sign_in(b, p[OTHER_CITY], p["province"], "li_si")
        async with api(p[OTHER_CITY], hosts) as client:
            assert (await client.get("/me/cases", headers=bearer(other))).json()["items"] == []
        async with api(p[CITY], hosts) as client:
            r = await client.get("/me/cases", headers=bearer(other))
        assert r.status_code == 401

    async def test_the_discovery_document_names_the_code_flow(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        async with httpx.AsyncClient(transport=hosts) as client:
            province = (await client.get(p["province"].url + "/.well-known/openid-configuration")).json()
            city = (await client.get(p[CITY].url + "/.well-known/openid-configuration")).json()
        assert province["authorization_endpoint"] == p["province"].url + "/authorize"
        assert province["code_challenge_methods_supported"] == ["S256"]
        assert "authorization_code" in province["grant_types_supported"]
        assert "authorization_endpoint" not in city


class TestSemiUnifiedBadInput:
    @asynccontextmanager
    async def _signed_in_browser(self, semi: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
        p, hosts = semi["platforms"], semi["hosts"]
        async with browser(hosts) as b:
            r = await b.post(
                p["province"].url + "/sign-in/password",
                data={"username": "li_si", "password": PASSWORD, "next": "/"},
                headers={"Origin": p["province"].url},
            )
            assert r.status_code == 303
            yield b

    async def _code(self, b: httpx.AsyncClient, semi: dict[str, Any], verifier: str) -> str:
        p = semi["platforms"]
        r = await b.get(
            p["province"].url + "/authorize", params=flow_params(p[CITY], s256_challenge(verifier))
        )
        assert r.status_code == 303, r.text
        return parse_qs(urlsplit(r.headers["location"]).query)["code"][0]

    async def test_an_unregistered_redirect_uri_or_client_is_refused_not_redirected(
        self, semi: dict[str, Any]
    ) -> None:
        p = semi["platforms"]
        async with self._signed_in_browser(semi) as b:
            params = flow_params(p[CITY], "c" * 43)
            for changed in (
                {"redirect_uri": "http://evil.test/sign-in/oidc/callback"},
                {"redirect_uri": callback(OTHER_CITY)},  # registered, but for another client
                {"client_id": "portal-nowhere"},
            ):
                r = await b.get(p["province"].url + "/authorize", params={**params, **changed})
                assert r.status_code == 400 and "location" not in r.headers
                assert "未登记" in r.text

    async def test_a_request_without_pkce_goes_back_with_an_error(self, semi: dict[str, Any]) -> None:
        p = semi["platforms"]
        async with self._signed_in_browser(semi) as b:
            params = {**flow_params(p[CITY], "c" * 43), "code_challenge_method": "plain"}
            r = await b.get(p["province"].url + "/authorize", params=params)
        assert r.status_code == 303
        answer = parse_qs(urlsplit(r.headers["location"]).query)
        assert answer["error"] == ["invalid_request"] and answer["state"] == ["s" * 20]
        assert "code" not in answer

    async def test_a_bad_verifier_a_wrong_redirect_and_a_replayed_code_are_invalid_grant(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        verifier = "v" * 50
        redeem = {
            "grant_type": "authorization_code",
            "client_id": f"portal-{CITY}",
            "redirect_uri": callback(CITY),
            "code_verifier": verifier,
        }
        async with self._signed_in_browser(semi) as b, api(p["province"], hosts) as client:
            code = await self._code(b, semi, verifier)
            wrong = await client.post("/auth/token", data={**redeem, "code": code, "code_verifier": "w" * 50})
            assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
            assert "PKCE" in wrong.json()["detail"]
            other = await client.post(
                "/auth/token",
                data={
                    **redeem,
                    "code": code,
                    "client_id": f"portal-{OTHER_CITY}",
                    "redirect_uri": callback(OTHER_CITY),
                },
            )
            assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
            unregistered = await client.post(
                "/auth/token", data={**redeem, "code": code, "redirect_uri": "http://evil.test/cb"}
            )
            assert unregistered.status_code == 400
            good = await client.post("/auth/token", data={**redeem, "code": code})
            assert good.status_code == 200, good.text
            assert good.json()["id_token"]
            replay = await client.post("/auth/token", data={**redeem, "code": code})
            assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
            # The replay ended the session the code had opened: its refresh token is dead.
            refresh = await client.post(
                "/auth/token",
                data={"grant_type": "refresh_token", "refresh_token": good.json()["refresh_token"]},
            )
            assert refresh.status_code == 400
            # A malformed verifier is refused before anything is looked up.
            bad = await client.post("/auth/token", data={**redeem, "code": code, "code_verifier": "short"})
            assert bad.status_code == 422

    async def test_a_callback_with_a_foreign_state_or_a_forged_id_token_is_refused(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        async with browser(hosts) as b:
            start = await b.get(p[CITY].url + "/sign-in/oidc")
            assert start.status_code == 303
            # Another browser's state (login CSRF): this one's cookie does not match.
            r = await b.get(
                p[CITY].url + "/sign-in/oidc/callback", params={"code": "x" * 30, "state": "forged"}
            )
            assert r.status_code == 400
        # An ID token signed by a platform the city does not trust is refused (401).
        province_id_token = None
        async with self._signed_in_browser(semi) as b, api(p["province"], hosts) as client:
            verifier = "v" * 50
            code = await self._code(b, semi, verifier)
            province_id_token = (
                await client.post(
                    "/auth/token",
                    data={
                        "grant_type": "authorization_code",
                        "client_id": f"portal-{CITY}",
                        "redirect_uri": callback(CITY),
                        "code_verifier": verifier,
                        "code": code,
                    },
                )
            ).json()["id_token"]
        verifier_of_city = p[CITY].app.state.federation_verifier
        # Right issuer, wrong nonce or audience.
        with pytest.raises(Unauthorized):
            await verifier_of_city.averify_id_token(
                province_id_token, audience=f"portal-{CITY}", nonce="other"
            )
        with pytest.raises(Unauthorized):
            await verifier_of_city.averify_id_token(province_id_token, audience="portal-x", nonce="n" * 20)
        assert (
            await verifier_of_city.averify_id_token(
                province_id_token, audience=f"portal-{CITY}", nonce="n" * 20
            )
        )["iss"] == p["province"].issuer
        # An ID token signed by a platform the other city does not trust (the first city, a peer
        # and not its province) is refused there, however well-formed.
        someone = Principal(sub=str(uuid.uuid4()), name="某人", kind="natural_person")
        forged = p[CITY].app.state.token_issuer.issue_id_token(
            someone, audience=f"portal-{OTHER_CITY}", nonce="n" * 20, auth_time=0
        )
        with pytest.raises(Unauthorized, match="不受信任"):
            await p[OTHER_CITY].app.state.federation_verifier.averify_id_token(
                forged, audience=f"portal-{OTHER_CITY}", nonce="n" * 20
            )
        # The province's ID token, with a signature of another key, is refused too.
        header, payload, _ = province_id_token.split(".")
        resigned = p[CITY].app.state.token_issuer.issue_id_token(
            someone, audience=f"portal-{CITY}", nonce="n" * 20, auth_time=0
        )
        spliced = ".".join([header, payload, resigned.split(".")[2]])
        with pytest.raises(Unauthorized):
            await verifier_of_city.averify_id_token(spliced, audience=f"portal-{CITY}", nonce="n" * 20)
        # An ID token is never taken for an access token.
        async with api(p[CITY], hosts) as client:
            assert (await client.get("/me/cases", headers=bearer(province_id_token))).status_code == 401

    async def test_staff_are_not_signed_in_for_a_city(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        async with browser(hosts) as b:
            r = await b.post(
                p["province"].url + "/sign-in/password",
                data={"username": "sheng_staff", "password": PASSWORD, "next": "/"},
                headers={"Origin": p["province"].url},
            )
            r = await b.get(p["province"].url + "/authorize", params=flow_params(p[CITY], "c" * 43))
        # A staff member's session is not a citizen's: the province asks for a citizen's sign-in.
        assert r.status_code == 303 and r.headers["location"].startswith("/sign-in?")


# --- single logout (ADR 0116) ----------------------------------------------------------------


def _province_sid(b: httpx.AsyncClient, province: Platform) -> str:
    """The browser's own session at the province (the ``sid`` its portals' ID tokens carry)."""
    token = b.cookies.get("yiwang_session", domain="province.test")
    assert token
    principal = province.app.state.token_verifier.verify(token)
    assert principal.session_id
    return str(principal.session_id)


async def _session(platform: Platform, token: str) -> AuthSession:
    principal = await platform.app.state.token_verifier.averify(token)
    async with session_scope(platform.app.state.sessionmaker) as session:
        record = await SessionRepository.from_session(session).get_by_id(uuid.UUID(str(principal.session_id)))
    assert record is not None
    return record


async def _deliveries(province: Platform) -> list[LogoutDelivery]:
    async with session_scope(province.app.state.sessionmaker) as session:
        rows = await session.execute(select(LogoutDelivery).order_by(LogoutDelivery.audience))
        return list(rows.scalars())


async def _until_ended(province: Platform, city: Platform, *tokens: str) -> None:
    """Run the province's deliveries (its worker may take them too) until the city sessions end."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        await province.app.state.logout.deliver_due(
            province.app.state.sessionmaker, now=utcnow() + timedelta(hours=1)
        )
        if all([(await _session(city, t)).revoked_at is not None for t in tokens]):
            return
        assert asyncio.get_running_loop().time() < deadline, "the city never ended its sessions"
        await asyncio.sleep(0.05)


def _signed(platform: Platform, claims: dict[str, Any], typ: str = LOGOUT_TOKEN_TYPE) -> str:
    """A JWT signed with a platform's current key, with whatever claims a test needs."""
    key = platform.app.state.token_issuer.current_key()
    return jwt.encode({"alg": ALGORITHM, "typ": typ, "kid": key.kid}, claims, key.key, algorithms=[ALGORITHM])


async def _post_logout(city: Platform, hosts: Any, token: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=hosts) as client:
        return await client.post(city.url + BACKCHANNEL_PATH, data={"logout_token": token})


class TestSingleLogout:
    async def test_signing_out_at_the_province_ends_the_city_sessions_that_came_from_it(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        province, city, other = p["province"], p[CITY], p[OTHER_CITY]
        async with browser(hosts) as b, browser(hosts) as b2:
            # One province sign-in, two city portals (single sign-on) …
            at_city = await delegated_sign_in(b, city, province, "li_si")
            at_other = await delegated_sign_in(b, other, province, "li_si")
            sid = _province_sid(b, province)
            # … and, in another browser, a second province sign-in of the same person.
            elsewhere = await delegated_sign_in(b2, city, province, "li_si")
            province_token = b.cookies.get("yiwang_session", domain="province.test")
        async with api(province, hosts) as client:
            r = await client.post("/auth/sign-out", headers=bearer(str(province_token)))
        assert r.status_code == 200 and r.json()["sessions_ended"] == 1
        queued = await _deliveries(province)
        assert [(d.audience, d.sid, d.subject) for d in queued] == [
            (f"portal-{CITY}", sid, str(province.users["li_si"])),
            (f"portal-{OTHER_CITY}", sid, str(province.users["li_si"])),
        ]
        await _until_ended(province, city, at_city)
        await _until_ended(province, other, at_other)
        assert (await _session(city, at_city)).revoke_reason == "backchannel_logout"
        # The sign-in in the other browser came from another province session: it goes on.
        assert (await _session(city, elsewhere)).revoked_at is None

    async def test_a_password_change_at_the_province_ends_every_city_session_of_the_person(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        province, city = p["province"], p[CITY]
        async with browser(hosts) as b, browser(hosts) as b2:
            first = await delegated_sign_in(b, city, province, "li_si")
            second = await delegated_sign_in(b2, city, province, "li_si")
        token = (await password_token(province, hosts, "li_si")).json()["access_token"]
        async with api(province, hosts) as client:
            r = await client.post(
                "/auth/password",
                json={"current_password": PASSWORD, "new_password": "another-secret-9"},
                headers=bearer(token),
            )
        assert r.status_code == 200, r.text
        # One notice for the whole account: ``sub`` alone, no ``sid``.
        assert [(d.audience, d.sid) for d in await _deliveries(province)] == [(f"portal-{CITY}", None)]
        await _until_ended(province, city, first, second)

    async def test_signing_out_at_the_city_ends_the_province_session_and_the_other_citys(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        province, city, other = p["province"], p[CITY], p[OTHER_CITY]
        async with browser(hosts) as b:
            at_city = await delegated_sign_in(b, city, province, "li_si")
            at_other = await delegated_sign_in(b, other, province, "li_si")
            sid = _province_sid(b, province)
            out = await b.post(
                city.url + "/sign-out",
                data={"csrf": csrf_token(at_city)},
                headers={"Origin": city.url},
            )
            assert out.status_code == 303
            # RP-initiated logout: to the province's end-session endpoint with the ID token …
            end = out.headers["location"]
            assert end.startswith(province.url + "/end-session?")
            query = parse_qs(urlsplit(end).query)
            assert query["post_logout_redirect_uri"] == [city.url + "/sign-in"]
            hint = await province.app.state.federation_verifier.averify_id_token_hint(
                query["id_token_hint"][0], issuer=province.issuer, audiences=[f"portal-{CITY}"]
            )
            assert hint["sid"] == sid
            back = await b.get(end)
            # … which ends the province session and sends the browser back to the city.
            assert back.status_code == 303 and back.headers["location"] == city.url + "/sign-in"
            assert not b.cookies.get("yiwang_session", domain="province.test")
        assert (await _session(city, at_city)).revoke_reason == "sign_out"
        async with session_scope(province.app.state.sessionmaker) as session:
            record = await SessionRepository.from_session(session).get_by_id(uuid.UUID(sid))
        assert record is not None and record.revoke_reason == "rp_logout"
        # The other city is told by the back channel; the city that asked is not told again.
        assert [d.audience for d in await _deliveries(province)] == [f"portal-{OTHER_CITY}"]
        await _until_ended(province, other, at_other)

    async def test_a_city_that_is_down_is_told_when_it_is_back(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        province, city = p["province"], p[CITY]
        async with browser(hosts) as b:
            at_city = await delegated_sign_in(b, city, province, "li_si")
            province_token = b.cookies.get("yiwang_session", domain="province.test")
        transport = hosts.apps.pop(f"{CITY}.test")
        try:
            async with api(province, hosts) as client:
                r = await client.post("/auth/sign-out", headers=bearer(str(province_token)))
            assert r.status_code == 200
            await province.app.state.logout.deliver_due(province.app.state.sessionmaker)
            (pending,) = await _deliveries(province)
            assert pending.delivered_at is None and pending.failed_at is None
            assert pending.attempts >= 1 and pending.last_error == "ConnectError"
            assert pending.next_attempt_at > utcnow()
            assert (await _session(city, at_city)).revoked_at is None
        finally:
            hosts.apps[f"{CITY}.test"] = transport
        await _until_ended(province, city, at_city)
        (done,) = await _deliveries(province)
        assert done.delivered_at is not None

    async def test_forged_expired_foreign_and_replayed_logout_tokens_are_refused_and_end_nothing(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        province, city, other = p["province"], p[CITY], p[OTHER_CITY]
        async with browser(hosts) as b:
            at_city = await delegated_sign_in(b, city, province, "li_si")
            sid = _province_sid(b, province)
        now = int(time.time())
        good = {
            "iss": province.issuer,
            "aud": f"portal-{CITY}",
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "sid": sid,
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        }
        stranger = OKPKey.generate_key("Ed25519")
        kid = province.app.state.token_issuer.current_key().kid
        bad = {
            # Signed by another key under the province's kid and issuer.
            "forged": jwt.encode(
                {"alg": ALGORITHM, "typ": LOGOUT_TOKEN_TYPE, "kid": kid},
                good,
                stranger,
                algorithms=[ALGORITHM],
            ),
            # A platform the city does not take logout tokens from (the other city).
            "untrusted": other.app.state.token_issuer.issue_logout_token(
                audience=f"portal-{CITY}", subject=None, session_id=sid
            ),
            "other audience": _signed(province, {**good, "aud": f"portal-{OTHER_CITY}"}),
            "expired": _signed(province, {**good, "iat": now - 200, "exp": now - 100}),
            "too old": _signed(province, {**good, "iat": now - 3600, "exp": now + 60}),
            "nonce": _signed(province, {**good, "nonce": "n" * 20}),
            "no event": _signed(province, {**good, "events": {}}),
            "no sub or sid": _signed(province, {k: v for k, v in good.items() if k != "sid"}),
            "an ID token": _signed(province, good, typ="JWT"),
            "not a JWT": "not-a-token",
        }
        for name, token in bad.items():
            r = await _post_logout(city, hosts, token)
            assert r.status_code == 400, (name, r.text)
            assert r.json()["code"] == "invalid_logout_token", name
            assert r.headers["content-type"].startswith("application/problem+json")
        assert (await _session(city, at_city)).revoked_at is None
        async with httpx.AsyncClient(transport=hosts) as client:
            missing = await client.post(city.url + BACKCHANNEL_PATH, data={})
        assert missing.status_code == 422
        # The good one ends the session once; the same token again is a replay.
        valid = _signed(province, good)
        first = await _post_logout(city, hosts, valid)
        assert first.status_code == 200 and first.json() == {"sessions_ended": 1}
        assert first.headers["cache-control"] == "no-store"
        assert (await _session(city, at_city)).revoke_reason == "backchannel_logout"
        replay = await _post_logout(city, hosts, valid)
        assert replay.status_code == 400 and "replayed" in replay.json()["detail"]
        # The province takes no logout tokens at all (it has no provider).
        r = await _post_logout(province, hosts, _signed(city, {**good, "iss": city.issuer}))
        assert r.status_code == 400

    async def test_the_end_session_endpoint_refuses_foreign_hints_and_unregistered_redirects(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        province, city, other = p["province"], p[CITY], p[OTHER_CITY]
        async with browser(hosts) as b:
            await delegated_sign_in(b, city, province, "li_si")
            sid = _province_sid(b, province)
            async with session_scope(city.app.state.sessionmaker) as session:
                (record,) = (await session.execute(select(FederatedSession))).scalars().all()
            hint = str(record.id_token)
            someone = Principal(
                sub=str(province.users["li_si"]), name="李四", kind="natural_person", session_id=sid
            )
            foreign = other.app.state.token_issuer.issue_id_token(
                someone, audience=f"portal-{CITY}", nonce="n" * 20, auth_time=0
            )
            end = province.url + "/end-session"
            refused = [
                {"id_token_hint": foreign},
                {"id_token_hint": "x.y.z"},
                {"id_token_hint": hint, "client_id": f"portal-{OTHER_CITY}"},
                {"id_token_hint": hint, "post_logout_redirect_uri": "http://evil.test/sign-in"},
                {"id_token_hint": hint, "post_logout_redirect_uri": other.url + "/sign-in"},
            ]
            for params in refused:
                r = await b.get(end, params=params)
                assert r.status_code == 400 and "location" not in r.headers, params
            # No hint: nothing ends; the sign-in page (which offers the sign-out) instead.
            r = await b.get(end)
            assert r.status_code == 303 and r.headers["location"] == "/sign-in"
            async with session_scope(province.app.state.sessionmaker) as session:
                live = await SessionRepository.from_session(session).get_by_id(uuid.UUID(sid))
            assert live is not None and live.revoked_at is None
            # An expired hint still names the session (RP-Initiated Logout 1.0 §2).
            expired = province.app.state.token_issuer.issue_id_token(
                someone, audience=f"portal-{CITY}", nonce="n" * 20, auth_time=0, ttl_seconds=-120
            )
            with pytest.raises(Unauthorized):
                await city.app.state.federation_verifier.averify_id_token(
                    expired, audience=f"portal-{CITY}", nonce="n" * 20
                )
            r = await b.get(end, params={"id_token_hint": expired, "state": "st"})
            assert r.status_code == 303 and r.headers["location"] == "/sign-in"
        async with session_scope(province.app.state.sessionmaker) as session:
            ended = await SessionRepository.from_session(session).get_by_id(uuid.UUID(sid))
        assert ended is not None and ended.revoke_reason == "rp_logout"

    async def test_the_discovery_document_advertises_back_channel_logout(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        async with httpx.AsyncClient(transport=hosts) as client:
            province = (await client.get(p["province"].url + "/.well-known/openid-configuration")).json()
            city = (await client.get(p[CITY].url + "/.well-known/openid-configuration")).json()
        assert province["backchannel_logout_supported"] is True
        assert province["backchannel_logout_session_supported"] is True
        assert province["end_session_endpoint"] == p["province"].url + "/end-session"
        assert city["backchannel_logout_supported"] is False


class TestCitySignUp:
    async def test_a_city_portal_registers_nobody_and_says_where_to(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        city = p[CITY]
        async with browser(hosts) as b:
            for path in ("/sign-up", "/sign-up/person", "/sign-up/company"):
                page = await b.get(city.url + path)
                assert page.status_code == 200, path
                assert "由云南省政务服务平台统一注册和管理" in page.text
                assert 'href="/sign-in/oidc?next=/me"' in page.text
                assert 'action="/sign-up' not in page.text  # no form to register here
            assert 'href="http://province.test/sign-up/company"' in page.text
            # A form posted anyway (an old page, a script) is refused and creates no account.
            for path, fields in (
                ("/sign-up/person", {"username": "city_user", "password": PASSWORD, "name": "新用户"}),
                ("/sign-up/company", {"username": "city_firm", "password": PASSWORD, "name": "某公司"}),
            ):
                r = await b.post(city.url + path, data=fields, headers={"Origin": city.url})
                assert r.status_code == 409 and "统一注册" in r.text, path
            # The province's own sign-up page is the real one.
            province_page = await b.get(p["province"].url + "/sign-up/person")
            assert 'action="/sign-up/person"' in province_page.text
            # Browsers apply form-action to the redirects after a form: the province's sign-in
            # goes on to the cities' callbacks, a city's sign-out through the province.
            csp = province_page.headers["content-security-policy"]
            assert f"form-action 'self' {city.url} {p[OTHER_CITY].url};" in csp
            assert f"form-action 'self' {p['province'].url};" in page.headers["content-security-policy"]
        async with session_scope(city.app.state.sessionmaker) as session:
            names = (await session.execute(select(Account.username))).scalars().all()
        assert not {"city_user", "city_firm"} & set(names)
        async with api(city, hosts) as client:
            r = await client.post("/registrations/legal-persons", json={})
        assert r.status_code == 409 and r.json()["code"] == "register_at_province"
        assert r.headers["content-type"].startswith("application/problem+json")


class TestCitySignIn:
    """统分, a city portal: citizens sign in through the province only; the city's staff locally."""

    async def test_the_sign_in_page_offers_the_province_only_and_local_forms_are_refused(
        self, semi: dict[str, Any]
    ) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        city = p[CITY]
        async with browser(hosts) as b:
            for query in ("", "?method=sms", "?method=password&next=/me"):
                page = await b.get(city.url + "/sign-in" + query)
                assert page.status_code == 200, query
                assert "通过省级平台登录" in page.text and "由云南省政务服务平台统一注册和管理" in page.text
                assert 'href="/sign-in/oidc' in page.text
                # No password or SMS form, no tabs to them.
                assert "<form" not in page.text and 'type="password"' not in page.text, query
                assert "短信验证码登录" not in page.text and "/sign-in/sms" not in page.text, query
            assert 'href="/sign-in/oidc?next=/me"' in page.text
            # The province's own sign-in page keeps both forms.
            province_page = await b.get(p["province"].url + "/sign-in")
            assert 'action="/sign-in/password"' in province_page.text
            # A local form posted anyway (an old page, a script) is refused and signs nobody in.
            for path, fields in (
                ("/sign-in/password", {"username": "li_si", "password": PASSWORD}),
                ("/sign-in/sms/code", {"phone": "13800000001"}),
                ("/sign-in/sms", {"phone": "13800000001", "code": "123456"}),
            ):
                r = await b.post(city.url + path, data=fields, headers={"Origin": city.url})
                assert r.status_code == 409, path
                assert "不能在本平台使用密码或短信验证码登录" in r.text and "/sign-in/oidc" in r.text, path
                assert not b.cookies.get("yiwang_session", domain=f"{CITY}.test"), path

    async def test_the_api_refuses_citizens_alike_and_staff_still_sign_in(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        city = p[CITY]
        await city.add_account("yuxi_staff", kind="staff", name="玉溪窗口")
        unknown = await password_token(city, hosts, "li_si")
        wrong = await password_token(city, hosts, "yuxi_staff", "not-the-password")
        for r in (unknown, wrong):
            # One answer for a citizen's name and a staff member's wrong password: no staff names leak.
            assert r.status_code == 409 and r.json()["code"] == "sign_in_at_province", r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "省级" in r.json()["title"]
        assert unknown.json()["detail"] == wrong.json()["detail"]
        failed = [a for a in await city.audits() if a["action"] == "sign_in_failed"]
        assert {a["actor_name"] for a in failed} == {"li_si", "yuxi_staff"}  # still counted
        # The city's staff sign in with a password, by the API and at the console.
        staff = await password_token(city, hosts, "yuxi_staff")
        assert staff.status_code == 200, staff.text
        assert staff.json()["principal"]["kind"] == "staff"
        async with browser(hosts) as b:
            console = await b.post(
                city.url + "/console/sign-in",
                data={"username": "yuxi_staff", "password": PASSWORD},
                headers={"Origin": city.url},
            )
        assert console.status_code == 303, console.text
        # SMS codes: neither sent nor accepted at the city.
        async with api(city, hosts) as client:
            code = await client.post("/auth/sms-code", json={"phone": "13800000001"})
            grant = await client.post(
                "/auth/token",
                data={
                    "grant_type": "urn:yiwang:params:oauth:grant-type:sms-code",
                    "phone": "13800000001",
                    "code": "123456",
                },
            )
        for r in (code, grant):
            assert r.status_code == 409 and r.json()["code"] == "sign_in_at_province", r.text
        async with session_scope(city.app.state.sessionmaker) as session:
            sessions = (await session.execute(select(AuthSession.client))).scalars().all()
        assert sorted(sessions) == ["api", "console"]  # the staff member's two, nobody else's

    async def test_a_linked_accounts_password_is_changed_at_the_province(self, semi: dict[str, Any]) -> None:
        p, hosts = semi["platforms"], semi["hosts"]
        province, city = p["province"], p[CITY]
        async with browser(hosts) as b:
            token = await delegated_sign_in(b, city, province, "li_si")
            page = await b.get(city.url + "/me/password")
            assert page.status_code == 200, page.text
            assert "密码保存在云南省政务服务平台" in page.text
            assert 'href="http://province.test/me/password"' in page.text
            assert 'action="/me/password"' not in page.text and 'type="password"' not in page.text
            posted = await b.post(
                city.url + "/me/password",
                data={
                    "current_password": PASSWORD,
                    "new_password": "n3w-Passw0rd",
                    "csrf": csrf_token(token),
                },
                headers={"Origin": city.url},
            )
            assert posted.status_code == 409 and "请在云南省政务服务平台修改密码" in posted.text
            # The API says the same at the city.
            async with api(city, hosts) as client:
                r = await client.post(
                    "/auth/password",
                    json={"current_password": PASSWORD, "new_password": "n3w-Passw0rd"},
                    headers=bearer(token),
                )
            assert r.status_code == 409 and r.json()["code"] == "password_at_home_platform", r.text
            # The province's page is the real form, and it works there.
            at_province = await b.get(province.url + "/me/password")
            assert 'action="/me/password"' in at_province.text
            province_token = b.cookies.get("yiwang_session", domain="province.test")
            assert province_token
            changed = await b.post(
                province.url + "/me/password",
                data={
                    "current_password": PASSWORD,
                    "new_password": "n3w-Passw0rd",
                    "csrf": csrf_token(province_token),
                },
                headers={"Origin": province.url},
            )
            assert changed.status_code == 200 and "密码已修改" in changed.text, changed.text
        assert (await password_token(province, hosts, "li_si", "n3w-Passw0rd")).status_code == 200
