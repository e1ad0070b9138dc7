"""统建 unified: one platform for the province and its cities (ADR 0114).

Nothing is delegated or recognised, even with peers and clients configured: the mode decides.
A city platform in the same test has its own database, NATS server and issuer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.modes_support import (
    CITY,
    Federation,
    api,
    bearer,
    browser,
    callback,
    federation,
    flow_params,
    host,
    password_token,
    split_with,
)


def _unified_with_peers(_: str) -> dict[str, Any]:
    # Peers and clients configured, but the mode says unified: neither is used.
    return {
        "federation": {
            "peers": [{"issuer": host(CITY), "token_endpoint": host(CITY) + "/api/v1/auth/token"}],
            "clients": [{"client_id": f"portal-{CITY}", "redirect_uris": [callback(CITY)]}],
        }
    }


@pytest.fixture(scope="module")
async def built_unified() -> AsyncIterator[Federation]:
    specs = [
        ("province", "530000", "unified", _unified_with_peers),
        (CITY, "530400", "split", split_with("province")),
    ]
    async with federation(specs) as platforms:
        yield platforms


@pytest.fixture
async def unified(built_unified: Federation) -> dict[str, Any]:
    await built_unified.empty()
    platforms = built_unified.platforms
    await platforms["province"].add_account("yuxi_citizen", name="玉溪市民")
    await platforms["province"].add_account("kunming_citizen", name="昆明市民")
    await platforms[CITY].add_account("only_in_city")
    return {"platforms": platforms, "hosts": built_unified.hosts}


class TestUnified:
    async def test_one_platform_serves_the_province_and_its_cities(self, unified: dict[str, Any]) -> None:
        p, hosts = unified["platforms"], unified["hosts"]
        province = p["province"]
        tokens = {}
        for username in ("yuxi_citizen", "kunming_citizen"):
            r = await password_token(province, hosts, username)
            assert r.status_code == 200
            tokens[username] = r.json()["access_token"]
        await province.add_case(str(province.users["yuxi_citizen"]), "530400202612020000048")
        await province.add_case(str(province.users["kunming_citizen"]), "530100202612020000059")
        async with api(province, hosts) as client:
            mine = (await client.get("/me/cases", headers=bearer(tokens["yuxi_citizen"]))).json()["items"]
        assert [c["case_no"] for c in mine] == ["530400202612020000048"]

    async def test_nothing_is_delegated_or_recognised(self, unified: dict[str, Any]) -> None:
        p, hosts = unified["platforms"], unified["hosts"]
        province = p["province"]
        before = len(hosts.requests)
        assert (await password_token(province, hosts, "only_in_city")).status_code == 401
        # No request went to the configured peer (only the test's own to the province).
        assert [r.url.host for r in hosts.requests[before:]] == ["province.test"]
        async with browser(hosts) as b:
            r = await b.get(province.url + "/authorize", params=flow_params(p[CITY], "c" * 43))
            assert r.status_code == 400
            assert (await b.get(province.url + "/sign-in/oidc")).status_code == 404
