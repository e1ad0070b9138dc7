"""统建 (ADR 0114): one province platform registers the cases of its cities and counties, so a
case's 办件编号 carries the implementing unit's region, and region scoping tells the cities apart;
on a platform of another mode the region is the platform's own, as before (ADR 0004)."""

from __future__ import annotations

import httpx
import pytest
from management_factories import ORG_CODE, auth, register, submitted
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.case.service import case_region


def supervisor(region: str) -> Principal:
    return Principal(
        sub=f"jc-{region}", name="监察", kind="staff", roles=frozenset({"supervisor"}), region=region
    )


@pytest.mark.parametrize(
    ("platform", "item", "unified", "expected"),
    [
        ("530000", "530428", True, "530428"),  # a county's case on the province's one platform
        ("530000", "530400000000", True, "530400"),  # 12-digit item codes: the county part
        ("530000", "440300", True, "530000"),  # not inside the platform: the platform's
        ("530000", "530428", False, "530000"),  # 统分 / 分建: the registering platform's
        ("530428", "530428", True, "530428"),
        ("530000", "", True, "530000"),
    ],
)
def test_the_region_of_a_case_number(platform: str, item: str, unified: bool, expected: str) -> None:
    assert case_region(platform, item, unified=unified) == expected


async def test_a_unified_province_platform_scopes_its_cities_cases(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    calendar: WorkingDayCalendar,
    item: str,
) -> None:
    province = CaseEventHandlers(calendar=calendar, region_code="530000", unified=True)
    case_no = await register(sessionmaker, province, submitted())
    assert case_no.startswith("530428")
    # 玉溪市's supervisor reads the case of its county; 昆明市's does not, nor does its acceptor.
    yuxi = await client.get("/cases", headers=auth(supervisor("530400")))
    assert [c["case_no"] for c in yuxi.json()["items"]] == [case_no]
    assert (await client.get("/cases", headers=auth(supervisor("530100")))).json()["items"] == []
    kunming_acceptor = Principal(
        sub="sl-km",
        name="窗口",
        kind="staff",
        roles=frozenset({"acceptor"}),
        org_code=ORG_CODE,
        region="530100",
    )
    assert (await client.get(f"/cases/{case_no}", headers=auth(kunming_acceptor))).status_code == 404
    here = Principal(
        sub="sl-yj",
        name="窗口",
        kind="staff",
        roles=frozenset({"acceptor"}),
        org_code=ORG_CODE,
        region="530428",
    )
    assert (await client.get(f"/cases/{case_no}", headers=auth(here))).status_code == 200


async def test_a_platform_of_another_mode_numbers_with_its_own_region(
    sessionmaker: async_sessionmaker[AsyncSession], calendar: WorkingDayCalendar, item: str
) -> None:
    province = CaseEventHandlers(calendar=calendar, region_code="530000", unified=False)
    assert (await register(sessionmaker, province, submitted())).startswith("530000")
