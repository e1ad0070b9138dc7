"""Who reads what (ADR 0013): the applicant their own, staff their unit's items, supervisors their region's.

Every refusal is a 404 indistinguishable from "no such thing", as in management and business.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from yiwang_datasharing.access import region_of_org, region_prefix

#: The implementing unit (元江县住房和城乡建设局, as in conftest), another unit of the same county,
#: a unit of the prefecture (玉溪市) and one of another city (昆明市).
ORG_CODE = "11530428015176456L"
NEIGHBOUR_ORG = "11530428MB1234567X"
PREFECTURE_ORG = "11530400MB7654321Y"
ELSEWHERE_ORG = "11530100MB1111111K"


def urls(case: Any) -> list[str]:
    return [
        f"/api/v1/cases/{case.case_no}",
        f"/api/v1/materials/{case.sha256}",
        f"/api/v1/materials/{case.sha256}/meta",
        f"/api/v1/licences/{case.licence.identifier}",
    ]


async def listed(client: httpx.AsyncClient, headers: dict[str, str], case_no: str) -> bool:
    response = await client.get("/api/v1/cases", params={"limit": 100}, headers=headers)
    assert response.status_code == 200
    return case_no in {c["case_no"] for c in response.json()["items"]}


class TestOtherUnitsAreDenied:
    @pytest.mark.parametrize("role", ["acceptor", "reviewer", "approver", "receiver", "deliverer"])
    async def test_staff_of_another_unit_get_404_for_record_material_and_licence(
        self, client: httpx.AsyncClient, auth: Any, case: Any, role: str
    ) -> None:
        headers = auth("other-staff", staff=True, org=NEIGHBOUR_ORG, role=role)
        for url in urls(case):
            response = await client.get(url, headers=headers)
            assert response.status_code == 404, url
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == 404
            assert "530428199001011231" not in response.text

    async def test_refusal_looks_like_absence(self, client: httpx.AsyncClient, auth: Any, case: Any) -> None:
        headers = auth("other-staff", staff=True, org=NEIGHBOUR_ORG)
        denied = (await client.get(f"/api/v1/cases/{case.case_no}", headers=headers)).json()
        absent = (await client.get("/api/v1/cases/530428202611239999990", headers=headers)).json()
        assert {k: v for k, v in denied.items() if k not in ("detail", "instance", "request_id")} == {
            k: v for k, v in absent.items() if k not in ("detail", "instance", "request_id")
        }

    async def test_list_of_another_unit_does_not_show_the_case(
        self, client: httpx.AsyncClient, auth: Any, case: Any
    ) -> None:
        assert not await listed(client, auth("other-staff", staff=True, org=NEIGHBOUR_ORG), case.case_no)

    async def test_staff_without_a_unit_see_nothing(
        self, client: httpx.AsyncClient, auth: Any, case: Any, app: Any
    ) -> None:
        from yiwang_common.auth import Principal
        from yiwang_common.testing import bearer

        headers = bearer(
            Principal(sub="nobody", name="无单位", kind="staff", roles=frozenset({"admin", "supervisor"}))
        )
        for url in urls(case):
            assert (await client.get(url, headers=headers)).status_code == 404, url
        assert not await listed(client, headers, case.case_no)

    async def test_supervisor_of_another_region_gets_404(
        self, client: httpx.AsyncClient, auth: Any, case: Any
    ) -> None:
        headers = auth("far-supervisor", staff=True, org=ELSEWHERE_ORG, role="supervisor")
        for url in urls(case):
            assert (await client.get(url, headers=headers)).status_code == 404, url
        assert not await listed(client, headers, case.case_no)


class TestWhoMayRead:
    async def test_staff_of_the_implementing_unit_read_everything(
        self, client: httpx.AsyncClient, auth: Any, case: Any
    ) -> None:
        headers = auth("own-staff", staff=True, org=ORG_CODE)
        for url in urls(case):
            assert (await client.get(url, headers=headers)).status_code == 200, url
        assert await listed(client, headers, case.case_no)

    @pytest.mark.parametrize("org", [NEIGHBOUR_ORG, PREFECTURE_ORG])
    async def test_supervisor_of_the_region_reads_everything(
        self, client: httpx.AsyncClient, auth: Any, case: Any, org: str
    ) -> None:
        headers = auth("supervisor", staff=True, org=org, role="supervisor")
        for url in urls(case):
            assert (await client.get(url, headers=headers)).status_code == 200, url
        assert await listed(client, headers, case.case_no)

    async def test_applicant_reads_own_case_only(
        self, client: httpx.AsyncClient, auth: Any, case: Any, deliver: Any
    ) -> None:
        for url in urls(case):
            assert (await client.get(url, headers=auth(case.applicant_id))).status_code == 200, url
        assert await listed(client, auth(case.applicant_id), case.case_no)
        for url in urls(case):
            assert (await client.get(url, headers=auth("someone-else"))).status_code == 404, url
        assert not await listed(client, auth("someone-else"), case.case_no)

    async def test_list_pages_only_the_callers_cases(
        self, client: httpx.AsyncClient, auth: Any, case: Any
    ) -> None:
        response = await client.get("/api/v1/cases", headers=auth(case.applicant_id))
        body = response.json()
        assert body["pagination"]["total_count"] == 1
        assert [c["case_no"] for c in body["items"]] == [case.case_no]
        assert "applicant" not in body["items"][0] and "form" not in body["items"][0]

    async def test_list_without_token_is_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/cases")).status_code == 401


class TestPublicVerification:
    async def test_shows_only_what_verification_needs(
        self, client: httpx.AsyncClient, auth: Any, case: Any
    ) -> None:
        held = (await client.get("/api/v1/licences", headers=auth(case.applicant_id))).json()
        token = held[0]["verification_token"]
        response = await client.get(f"/api/v1/licence-verifications/{token}")
        assert response.status_code == 200
        body = response.json()
        checked_at = body.pop("checked_at")
        assert checked_at
        assert body == {
            "result": "valid",
            "result_text": "证照有效",
            "type_name": "建筑工程施工许可证",
            "holder_name": "张*",
            "issuer_name": "元江县住房和城乡建设局",
            "issued_on": "2026-11-30",
            "valid_from": "2026-11-30",
            "valid_until": None,
        }
        for secret in ("530428199001011231", case.applicant_id, "张三", "project", case.case_no):
            assert secret not in response.text
        # The QR carries a random token, never the sequential licence number or identifier.
        assert case.licence.licence_no not in token and len(token) >= 32

    async def test_unknown_token_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/licence-verifications/" + "A" * 32)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    async def test_the_identifier_is_no_verification_token(
        self, client: httpx.AsyncClient, case: Any
    ) -> None:
        response = await client.get(f"/api/v1/licence-verifications/{case.licence.identifier}")
        assert response.status_code in (404, 422)


class TestRegions:
    @pytest.mark.parametrize(
        ("code", "region"),
        [("11530428015176456L", "530428"), ("91530400MA6K000015", "530400"), ("bad", None), (None, None)],
    )
    def test_region_of_org(self, code: str | None, region: str | None) -> None:
        assert region_of_org(code) == region

    @pytest.mark.parametrize(
        ("region", "prefix"), [("530428", "530428"), ("530400", "5304"), ("530000", "53"), ("000000", "00")]
    )
    def test_region_prefix(self, region: str, prefix: str) -> None:
        assert region_prefix(region) == prefix
