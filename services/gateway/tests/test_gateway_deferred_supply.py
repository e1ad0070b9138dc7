"""容缺材料 handed in through the portal (ADR 0119): an accepted case that owes a material shows
已受理（容缺待补）, takes the owed material (and nothing else) through ``POST …/supplements``, and
tells management with ``application.supplemented``."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from gateway_cases import (
    CASE_NO,
    M03,
    accepted,
    accepted_with_materials_owed,
    case_view,
    deliver,
    registered,
    submit_application,
)
from gateway_support import Accounts, upload
from sqlalchemy import select

from yiwang_common.contracts.gateway import ApplicationSupplemented
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_gateway.db import messaging

#: M03 of the test item takes at most 50 bytes.
SMALL_PDF = b"%PDF-1.4\n%%EOF\n"


async def _supplemented_events(sessionmaker: Any) -> list[dict[str, Any]]:
    async with session_scope(sessionmaker) as session:
        rows = (
            await session.execute(
                select(messaging.outbox.c.payload).where(
                    messaging.outbox.c.subject == ApplicationSupplemented.subject
                )
            )
        ).all()
    return [orjson.loads(r.payload)["data"] for r in rows]


async def test_the_owed_material_is_handed_in_online(
    client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
) -> None:
    z = accounts.zhangsan
    headers = auth(z)
    app_id = await submit_application(client, headers)
    await deliver(sessionmaker, registered(app_id, z, [M03]), accepted_with_materials_owed(app_id, z))
    r = await client.get("/api/v1/applications", headers=headers)
    assert [a["status_text"] for a in r.json()["items"]] == ["已受理（容缺待补）"]

    sha = await upload(client, headers, content=SMALL_PDF)
    # Only what is owed: another material is a 422 problem and changes nothing.
    r = await client.post(
        f"/api/v1/cases/{CASE_NO}/supplements",
        json={"materials": [{"material_code": "M02", "sha256": sha}]},
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "material_not_requested"
    assert r.headers["content-type"] == "application/problem+json" and "容缺" in r.json()["detail"]
    assert await _supplemented_events(sessionmaker) == []

    r = await client.post(
        f"/api/v1/cases/{CASE_NO}/supplements",
        json={"materials": [{"material_code": "M03", "sha256": sha}]},
        headers=headers,
    )
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["missing_materials"]) == ("accepted", [])
    [event] = await _supplemented_events(sessionmaker)
    assert event["case_no"] == CASE_NO and [m["material_code"] for m in event["materials"]] == ["M03"]
    view = await case_view(client, headers)
    assert (view["status"], view["status_text"]) == ("accepted", "已受理")
    assert view["timeline"][-1]["title"] == "已补交容缺材料"

    # Nothing owed any more: a second hand-in is refused.
    r = await client.post(
        f"/api/v1/cases/{CASE_NO}/supplements",
        json={"materials": [{"material_code": "M03", "sha256": sha}]},
        headers=headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "case_not_awaiting_supplement"
    await deliver(sessionmaker, accepted(app_id, z))
    assert (await case_view(client, headers))["due_date"] == "2026-11-30"


async def test_someone_else_cannot_hand_it_in(
    client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
) -> None:
    z = accounts.zhangsan
    app_id = await submit_application(client, auth(z))
    await deliver(sessionmaker, registered(app_id, z, [M03]), accepted_with_materials_owed(app_id, z))
    other = auth(accounts.lisi)
    sha = await upload(client, other, content=SMALL_PDF)
    r = await client.post(
        f"/api/v1/cases/{CASE_NO}/supplements",
        json={"materials": [{"material_code": "M03", "sha256": sha}]},
        headers=other,
    )
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert await _supplemented_events(sessionmaker) == []
