"""A small client of the suite's public REST APIs, used by ``make demo``, the end-to-end tests
and the benchmark, so that all three drive the flow exactly as an outside caller would."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

CONSTRUCTION_PERMIT = "11530428015176456L2000109003000"  # 建筑工程施工许可证核发 (demo data)
DEMO_PASSWORD = "demo123"
T = TypeVar("T")

CONSTRUCTION_FORM: dict[str, Any] = {
    "工程名称": "元江县滨江花园二期 3# 住宅楼",
    "建设地址": "元江县澧江街道滨江路 88 号",
    "建设规模": 12800.5,
    "合同价格": 3650.0,
    "建设单位": "元江县城市建设投资有限公司",
    "施工单位": "云南建投第五建设有限公司",
    "监理单位": "玉溪市建设监理有限公司",
    "计划开工日期": "2026-12-01",
    "计划竣工日期": "2028-06-30",
}


def pdf_bytes(label: str) -> bytes:
    """A tiny but well-formed PDF whose content (and so SHA-256) depends on ``label``."""
    body = f"BT /F1 12 Tf 72 720 Td ({label}) Tj ET".encode()
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>endobj\n"
        + f"4 0 obj<</Length {len(body)}>>stream\n".encode()
        + body
        + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


class FlowError(AssertionError):
    """A step of the flow did not answer as the API promises."""


def expect(response: httpx.Response, *statuses: int) -> Any:
    """Return the JSON body if the status is one of ``statuses``; else fail with the problem."""
    if response.status_code not in statuses:
        raise FlowError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text[:800]}"
        )
    return response.json() if response.content else None


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = 30.0, interval: float = 0.05
) -> T:
    """Poll ``check`` until it returns something truthy (events are asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise FlowError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@dataclass
class Suite:
    """HTTP clients for the four services (base URLs of a running suite)."""

    gateway: httpx.AsyncClient
    management: httpx.AsyncClient
    business: httpx.AsyncClient
    datasharing: httpx.AsyncClient

    @classmethod
    def connect(cls, urls: dict[str, str], timeout: float = 30.0) -> Suite:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)

        def client(name: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=urls[name] + "/api/v1", timeout=timeout, limits=limits)

        return cls(client("gateway"), client("management"), client("business"), client("data-sharing"))

    async def aclose(self) -> None:
        for c in (self.gateway, self.management, self.business, self.datasharing):
            await c.aclose()

    # --- identity ---------------------------------------------------------------------
    async def login(self, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
        body = expect(
            await self.gateway.post("/auth/token", json={"username": username, "password": password}), 200
        )
        return {"Authorization": f"Bearer {body['access_token']}"}

    # --- applicant --------------------------------------------------------------------
    async def upload(
        self, auth: dict[str, str], content: bytes, filename: str, media_type: str = "application/pdf"
    ) -> dict[str, Any]:
        r = await self.gateway.post(
            "/materials", headers=auth, files={"file": (filename, content, media_type)}
        )
        return dict(expect(r, 200, 201))

    async def item(self, item_code: str) -> dict[str, Any]:
        # The portal's catalogue follows management's events: right after start-up the demo
        # catalogue (about a hundred items) may still be on its way.
        async def check() -> dict[str, Any] | None:
            r = await self.gateway.get(f"/items/{item_code}")
            return None if r.status_code == 404 else dict(expect(r, 200))

        return await eventually(check)

    async def upload_materials(
        self, auth: dict[str, str], item: dict[str, Any], label: str, *, skip: set[str] | None = None
    ) -> list[dict[str, str]]:
        """Upload one PDF per material of the item (except ``skip``); return submission references."""
        refs = []
        for material in item["materials"]:
            if skip and material["code"] in skip:
                continue
            uploaded = await self.upload(
                auth, pdf_bytes(f"{label}-{material['code']}"), f"{material['code']}.pdf"
            )
            refs.append({"material_code": material["code"], "sha256": uploaded["sha256"]})
        return refs

    async def submit(
        self,
        auth: dict[str, str],
        item_code: str,
        form: dict[str, Any],
        materials: list[dict[str, str]],
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = dict(auth)
        headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        r = await self.gateway.post(
            "/applications",
            headers=headers,
            json={"item_code": item_code, "form": form, "materials": materials},
        )
        return dict(expect(r, 202))

    async def case_no_of(self, auth: dict[str, str], application_id: str, timeout: float = 30.0) -> str:
        async def check() -> str | None:
            body = expect(await self.gateway.get(f"/applications/{application_id}", headers=auth), 200)
            return body.get("case_no")

        return await eventually(check, timeout=timeout)

    async def my_case(self, auth: dict[str, str], case_no: str) -> dict[str, Any]:
        return dict(expect(await self.gateway.get(f"/cases/{case_no}", headers=auth), 200))

    async def wait_status(
        self, auth: dict[str, str], case_no: str, status: str, timeout: float = 30.0
    ) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            body = await self.my_case(auth, case_no)
            return body if body["status"] == status else None

        return await eventually(check, timeout=timeout)

    async def supplement(
        self, auth: dict[str, str], case_no: str, materials: list[dict[str, str]]
    ) -> dict[str, Any]:
        r = await self.gateway.post(
            f"/cases/{case_no}/supplements", headers=auth, json={"materials": materials}
        )
        return dict(expect(r, 202))

    # --- window staff (management) ------------------------------------------------------
    async def staff_case(self, auth: dict[str, str], case_no: str) -> dict[str, Any]:
        return dict(expect(await self.management.get(f"/cases/{case_no}", headers=auth), 200))

    async def wait_staff_status(
        self, auth: dict[str, str], case_no: str, status: str, timeout: float = 30.0
    ) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            r = await self.management.get(f"/cases/{case_no}", headers=auth)
            if r.status_code == 404:
                return None
            body = dict(expect(r, 200))
            return body if body["status"] == status else None

        return await eventually(check, timeout=timeout)

    async def pending_cases(self, auth: dict[str, str], limit: int = 100) -> list[dict[str, Any]]:
        r = await self.management.get(
            "/cases", headers=auth, params={"status": "pending_acceptance", "limit": limit}
        )
        return list(expect(r, 200)["items"])

    async def accept(self, auth: dict[str, str], case_no: str) -> dict[str, Any]:
        return dict(
            expect(await self.management.post(f"/cases/{case_no}/accept", headers=auth, json={}), 200)
        )

    async def notice(self, auth: dict[str, str], case_no: str) -> dict[str, Any]:
        r = await self.management.post(f"/cases/{case_no}/supplement-notice", headers=auth, json={})
        return dict(expect(r, 200))

    async def reject(self, auth: dict[str, str], case_no: str, reason: str) -> dict[str, Any]:
        r = await self.management.post(f"/cases/{case_no}/reject", headers=auth, json={"reason": reason})
        return dict(expect(r, 200))

    # --- department staff (business) -----------------------------------------------------
    async def open_tasks(self, auth: dict[str, str], limit: int = 100) -> list[dict[str, Any]]:
        r = await self.business.get("/tasks", headers=auth, params={"status": "open", "limit": limit})
        return list(expect(r, 200)["items"])

    async def task_for(self, auth: dict[str, str], case_no: str, timeout: float = 30.0) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            for task in await self.open_tasks(auth):
                if task["case_no"] == case_no:
                    return task
            return None

        return await eventually(check, timeout=timeout)

    async def complete(
        self, auth: dict[str, str], task_id: str, decision: str, opinion: str
    ) -> dict[str, Any]:
        r = await self.business.post(
            f"/tasks/{task_id}/complete", headers=auth, json={"decision": decision, "opinion": opinion}
        )
        return dict(expect(r, 200))
