"""The organisation tree and staff posts: validation of codes and levels, region-bounded
administration, and the events a post assignment emits (StaffAssigned, the audit record)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from management_factories import auth
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.checkdigits import uscc_check
from yiwang_common.db import session_scope
from yiwang_common.testing import outbox_events
from yiwang_management.db import messaging


def uscc(region: str, serial: str) -> str:
    """A valid 统一社会信用代码 of a 机关 (11) registered in ``region``."""
    first17 = f"11{region}{serial:0>9}"
    return first17 + uscc_check(first17)


HOUSING = uscc("530428", "15176456")
MARKET = uscc("530428", "20000001")
KUNMING = uscc("530100", "30000001")


def admin(region: str, sub: str = "gly") -> Principal:
    return Principal(sub=sub, name="中心管理员", kind="staff", roles=frozenset({"admin"}), region=region)


PROVINCE_ADMIN = admin("530000", "gly-sheng")
COUNTY_ADMIN = admin("530428", "gly-yj")
SUPERVISOR = Principal(sub="jc", name="监察", kind="staff", roles=frozenset({"supervisor"}), region="530428")
ACCEPTOR = Principal(
    sub="ck", name="窗口", kind="staff", roles=frozenset({"acceptor"}), org_code=HOUSING, region="530428"
)


@pytest.fixture(autouse=True)
async def _clean_tree(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(
            text("TRUNCATE staff_post, staff_member, org_post, org_department, org_region, outbox CASCADE")
        )


async def post(client: httpx.AsyncClient, who: Principal, url: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(url, json=body, headers=auth(who))


@pytest.fixture
async def tree(client: httpx.AsyncClient) -> dict[str, Any]:
    """云南省 → 玉溪市 → 元江县 and 昆明市, two county departments, their posts."""
    for code, name in [
        ("530000", "云南省"),
        ("530400", "玉溪市"),
        ("530428", "元江县"),
        ("530100", "昆明市"),
    ]:
        r = await post(client, PROVINCE_ADMIN, "/organisation/regions", {"code": code, "name": name})
        assert r.status_code == 201, r.text
    for org, name, region in [
        (HOUSING, "元江县住建局", "530428"),
        (MARKET, "元江县市场监管局", "530428"),
        (KUNMING, "昆明市住建局", "530100"),
    ]:
        r = await post(
            client,
            PROVINCE_ADMIN,
            "/organisation/departments",
            {
                "org_code": org,
                "name": name,
                "region_code": region,
                "level": "4" if region == "530428" else "3",
            },
        )
        assert r.status_code == 201, r.text
    window = await post(
        client,
        COUNTY_ADMIN,
        f"/organisation/departments/{HOUSING}/posts",
        {"code": "SL01", "name": "综合受理窗口", "kind": "window", "roles": ["receiver", "acceptor"]},
    )
    review = await post(
        client,
        COUNTY_ADMIN,
        f"/organisation/departments/{HOUSING}/posts",
        {"code": "SC01", "name": "审查岗", "kind": "post", "roles": ["reviewer"]},
    )
    foreign = await post(
        client,
        COUNTY_ADMIN,
        f"/organisation/departments/{MARKET}/posts",
        {"code": "SL01", "name": "市场监管受理窗口", "kind": "window", "roles": ["acceptor"]},
    )
    assert window.status_code == review.status_code == foreign.status_code == 201
    return {"window": window.json()["id"], "review": review.json()["id"], "foreign": foreign.json()["id"]}


class TestTreeValidation:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"code": "12345", "name": "x"}, "code"),
            ({"code": "990000", "name": "x"}, "code"),
            ({"code": "530012", "name": "x"}, "code"),
            ({"code": "53042A", "name": "x"}, "code"),
            ({"code": "530428", "name": ""}, "name"),
            ({"code": "530428", "name": "x", "other": 1}, "other"),
        ],
    )
    async def test_bad_region_is_422_and_adds_nothing(
        self, client: httpx.AsyncClient, body: dict[str, Any], field: str
    ) -> None:
        r = await post(client, PROVINCE_ADMIN, "/organisation/regions", body)
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert (await client.get("/organisation/regions", headers=auth(PROVINCE_ADMIN))).json() == []

    async def test_a_county_needs_its_city_first_and_a_region_is_added_once(
        self, client: httpx.AsyncClient
    ) -> None:
        assert (
            await post(client, PROVINCE_ADMIN, "/organisation/regions", {"code": "530000", "name": "云南省"})
        ).status_code == 201
        r = await post(client, PROVINCE_ADMIN, "/organisation/regions", {"code": "530428", "name": "元江县"})
        assert r.status_code == 422 and r.json()["code"] == "region_parent_missing"
        r = await post(client, PROVINCE_ADMIN, "/organisation/regions", {"code": "530000", "name": "云南省"})
        assert r.status_code == 409 and r.json()["code"] == "region_exists"

    @pytest.mark.parametrize(
        ("org_code", "region", "level", "status", "code"),
        [
            ("11530428015176456X", "530428", "4", 422, "validation_error"),
            ("1153042801517645", "530428", "4", 422, "validation_error"),
            (uscc("530428", "1"), "530428", "3", 422, "level_mismatch"),
            (uscc("530428", "2"), "530428", "9", 422, "validation_error"),
            (uscc("530400", "3"), "530400", "4", 422, "level_mismatch"),
            (uscc("530100", "4"), "530102", "4", 404, "region_not_found"),
        ],
    )
    async def test_bad_department_is_refused(
        self,
        client: httpx.AsyncClient,
        tree: dict[str, Any],
        org_code: str,
        region: str,
        level: str,
        status: int,
        code: str,
    ) -> None:
        body = {"org_code": org_code, "name": "某局", "region_code": region, "level": level}
        r = await post(client, PROVINCE_ADMIN, "/organisation/departments", body)
        assert r.status_code == status, r.text
        if code != "validation_error":
            assert r.json()["code"] == code

    async def test_township_and_village_units_sit_under_a_county_code(
        self, client: httpx.AsyncClient, tree: dict[str, Any]
    ) -> None:
        for level, serial in (("5", "7"), ("6", "8")):
            body = {
                "org_code": uscc("530428", serial),
                "name": "乡镇便民服务中心",
                "region_code": "530428",
                "level": level,
            }
            assert (await post(client, COUNTY_ADMIN, "/organisation/departments", body)).status_code == 201

    async def test_duplicate_department_and_post_are_409(
        self, client: httpx.AsyncClient, tree: dict[str, Any]
    ) -> None:
        body = {"org_code": HOUSING, "name": "重复", "region_code": "530428", "level": "4"}
        assert (await post(client, COUNTY_ADMIN, "/organisation/departments", body)).json()[
            "code"
        ] == "department_exists"
        dup = {"code": "SL01", "name": "又一个", "kind": "window", "roles": ["acceptor"]}
        r = await post(client, COUNTY_ADMIN, f"/organisation/departments/{HOUSING}/posts", dup)
        assert r.status_code == 409 and r.json()["code"] == "post_exists"

    @pytest.mark.parametrize("roles", [[], ["root"], ["applicant"]])
    async def test_a_post_grants_only_staff_roles(
        self, client: httpx.AsyncClient, tree: dict[str, Any], roles: list[str]
    ) -> None:
        body = {"code": "X1", "name": "岗", "kind": "post", "roles": roles}
        assert (
            await post(client, COUNTY_ADMIN, f"/organisation/departments/{HOUSING}/posts", body)
        ).status_code == 422


class TestRegionBoundedAdministration:
    async def test_a_county_admin_cannot_touch_another_region(
        self, client: httpx.AsyncClient, tree: dict[str, Any]
    ) -> None:
        r = await post(client, COUNTY_ADMIN, "/organisation/regions", {"code": "530102", "name": "五华区"})
        assert r.status_code == 403 and r.json()["code"] == "outside_region"
        body = {"org_code": uscc("530100", "9"), "name": "某局", "region_code": "530100", "level": "3"}
        assert (await post(client, COUNTY_ADMIN, "/organisation/departments", body)).json()[
            "code"
        ] == "outside_region"
        post_body = {"code": "A1", "name": "岗", "kind": "post", "roles": ["acceptor"]}
        r = await post(client, COUNTY_ADMIN, f"/organisation/departments/{KUNMING}/posts", post_body)
        assert r.status_code == 404 and r.json()["code"] == "department_not_found"
        listed = (await client.get("/organisation/departments", headers=auth(COUNTY_ADMIN))).json()
        assert {d["org_code"] for d in listed} == {HOUSING, MARKET}

    @pytest.mark.parametrize(
        "who",
        [ACCEPTOR, Principal(sub="a", name="张三", kind="natural_person", roles=frozenset({"applicant"}))],
    )
    async def test_only_admins_manage_and_only_admins_and_supervisors_read(
        self, client: httpx.AsyncClient, tree: dict[str, Any], who: Principal
    ) -> None:
        assert (
            await post(client, who, "/organisation/regions", {"code": "530402", "name": "红塔区"})
        ).status_code == 403
        assert (await client.get("/organisation/staff", headers=auth(who))).status_code == 403
        assert (
            await post(client, SUPERVISOR, "/organisation/regions", {"code": "530402", "name": "红塔区"})
        ).status_code == 403
        assert (await client.get("/organisation/staff", headers=auth(SUPERVISOR))).status_code == 200

    async def test_an_admin_token_without_region_manages_nothing(self, client: httpx.AsyncClient) -> None:
        who = Principal(sub="g", name="g", kind="staff", roles=frozenset({"admin"}))
        r = await post(client, who, "/organisation/regions", {"code": "530000", "name": "云南省"})
        assert r.status_code == 403 and r.json()["code"] == "outside_region"


class TestStaffPosts:
    async def test_assignment_emits_staff_assigned_and_an_audit_record(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], tree: dict[str, Any]
    ) -> None:
        r = await post(
            client,
            COUNTY_ADMIN,
            "/organisation/staff",
            {"username": "yj_li", "name": "李娜", "org_code": HOUSING, "post_ids": [tree["window"]]},
        )
        assert r.status_code == 201, r.text
        staff = r.json()
        assert staff["roles"] == ["acceptor", "receiver"] and staff["region_code"] == "530428"
        r = await client.put(
            f"/organisation/staff/{staff['id']}/posts",
            json={"post_ids": [tree["window"], tree["review"]]},
            headers=auth(COUNTY_ADMIN),
        )
        assert r.status_code == 200
        assert r.json()["roles"] == ["acceptor", "receiver", "reviewer"] and r.json()["version"] == 2
        assigned = [
            e["data"]
            for _, e in await outbox_events(
                sessionmaker, messaging.outbox, "yiwang.management.staff.assigned.v1"
            )
        ]
        assert [(a["version"], a["roles"]) for a in assigned] == [
            (1, ["acceptor", "receiver"]),
            (2, ["acceptor", "receiver", "reviewer"]),
        ]
        assert assigned[-1]["org_code"] == HOUSING and assigned[-1]["region_code"] == "530428"
        audits = [
            e["data"]
            for _, e in await outbox_events(
                sessionmaker, messaging.outbox, "yiwang.management.audit.recorded.v1"
            )
        ]
        assert [a["action"] for a in audits] == ["permission_changed", "permission_changed"]
        assert audits[-1]["actor_id"] == COUNTY_ADMIN.sub and audits[-1]["target_id"] == staff["id"]
        r = await client.delete(f"/organisation/staff/{staff['id']}", headers=auth(COUNTY_ADMIN))
        assert r.json()["roles"] == [] and r.json()["active"] is False

    async def test_a_post_of_another_department_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], tree: dict[str, Any]
    ) -> None:
        r = await post(
            client,
            COUNTY_ADMIN,
            "/organisation/staff",
            {"username": "yj_wang", "name": "王伟", "org_code": HOUSING},
        )
        staff = r.json()
        r = await client.put(
            f"/organisation/staff/{staff['id']}/posts",
            json={"post_ids": [tree["foreign"]]},
            headers=auth(COUNTY_ADMIN),
        )
        assert r.status_code == 422 and r.json()["code"] == "post_not_in_department"
        r = await client.put(
            f"/organisation/staff/{staff['id']}/posts",
            json={"post_ids": ["00000000-0000-0000-0000-000000000000"]},
            headers=auth(COUNTY_ADMIN),
        )
        assert r.status_code == 404 and r.json()["code"] == "post_not_found"
        again = (await client.get(f"/organisation/staff/{staff['id']}", headers=auth(COUNTY_ADMIN))).json()
        assert again["version"] == 1 and again["roles"] == []

    async def test_staff_of_another_region_look_absent(
        self, client: httpx.AsyncClient, tree: dict[str, Any]
    ) -> None:
        r = await post(
            client,
            PROVINCE_ADMIN,
            "/organisation/staff",
            {"username": "km_zhao", "name": "赵", "org_code": KUNMING},
        )
        staff = r.json()
        r = await client.get(f"/organisation/staff/{staff['id']}", headers=auth(COUNTY_ADMIN))
        assert r.status_code == 404 and r.json()["code"] == "staff_not_found"
        r = await client.put(
            f"/organisation/staff/{staff['id']}/posts", json={"post_ids": []}, headers=auth(COUNTY_ADMIN)
        )
        assert r.status_code == 404
        r = await post(
            client,
            COUNTY_ADMIN,
            "/organisation/staff",
            {"username": "km_zhao", "name": "x", "org_code": HOUSING},
        )
        assert r.status_code == 409 and r.json()["code"] == "staff_exists"
        assert (await client.get("/organisation/staff", headers=auth(COUNTY_ADMIN))).json()["items"] == []
        assert (
            len((await client.get("/organisation/staff", headers=auth(PROVINCE_ADMIN))).json()["items"]) == 1
        )
