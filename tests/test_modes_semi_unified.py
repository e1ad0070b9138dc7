"""统分 semi-unified, a province and two city platforms on one machine (ADR 0114).

Accounts live at the province; a city portal delegates sign-in to it by the authorization code
flow with PKCE and links a local account from the ID token. Each platform has its own database,
NATS server, signing key, issuer and region (``modes_support``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.modes_support import (
    CITY,
    OTHER_CITY,
    PASSWORD,
    Federation,
    Platform,
    api,
    bearer,
    browser,
    callback,
    federation,
    flow_params,
    host,
    password_token,
)
from yiwang_common.auth import Principal
from yiwang_common.http.problems import Unauthorized
from yiwang_gateway.federation.service import s256_challenge


def _province_semi(_: str) -> dict[str, Any]:
    return {
        "federation": {
            "clients": [
                {"client_id": f"portal-{c}", "name": c, "redirect_uris": [callback(c)]}
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
        assert (await password_token(p[CITY], hosts, "li_si")).status_code == 401
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
