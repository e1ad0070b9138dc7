"""Kill services mid-flow with SIGKILL, restart them, and check every case completes exactly once.

No graceful shutdown happens: whatever a killed process had fetched but not acknowledged is
redelivered, whatever it had committed but not published is published by the relay on
restart, and inboxes drop what was already applied. The checks count effects in every
service and events on the bus, so a lost or a duplicated step fails the test.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx
import nats
import pytest

from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, Suite, eventually, expect
from scripts.stack import Stack
from tests.e2e.support import running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
N = 30


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """On the test PostgreSQL and NATS (the embedded ones are `make dev`'s, checked by the flow tests)."""
    with running_stack("postgres", tmp_path_factory.mktemp("fault")) as running:
        yield running


async def retrying(call, *, attempts: int = 100):  # type: ignore[no-untyped-def]
    """Staff retry a click while the service restarts; a 409 means the first try went through."""
    for _ in range(attempts):
        try:
            return await call()
        except (httpx.TransportError, httpx.TimeoutException):
            await asyncio.sleep(0.2)
    raise AssertionError("service did not come back")


def restart(stack: Stack, name: str) -> None:
    stack.kill(name)
    stack.start_service(name)


async def test_killed_services_lose_and_duplicate_nothing(stack: Stack, suite: Suite) -> None:
    applicant = await suite.login("yjcj")
    acceptor = await suite.login("chuangkou")
    reviewer = await suite.login("shencha")
    approver = await suite.login("juece")
    item = await suite.item(CONSTRUCTION_PERMIT)
    refs = await suite.upload_materials(applicant, item, "fault")
    submitted = [
        await suite.submit(applicant, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs) for _ in range(N)
    ]
    case_nos = [await suite.case_no_of(applicant, s["application_id"]) for s in submitted]
    assert len(set(case_nos)) == N

    for case_no in case_nos:
        await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
    # Accept everything, and kill business while it is consuming the acceptances.
    await asyncio.gather(*(suite.accept(acceptor, c) for c in case_nos))
    restart(stack, "business")
    await asyncio.to_thread(stack.wait_ready, ["business"])

    async def all_tasks(auth: dict[str, str], step: str) -> list[dict[str, str]] | None:
        tasks = [
            t
            for t in await suite.open_tasks(auth, limit=100)
            if t["step_name"] == step and t["case_no"] in case_nos
        ]
        return tasks if len(tasks) == N else None

    reviews = await eventually(lambda: all_tasks(reviewer, "审查"), timeout=60)
    for task in reviews:
        await retrying(lambda t=task: suite.complete(reviewer, t["id"], "approve", "符合条件"))
    decisions = await eventually(lambda: all_tasks(approver, "决定"), timeout=60)
    for i, task in enumerate(decisions):
        if i == N // 2:
            restart(stack, "business")  # mid-decisions: the next clicks hit a dead port, then a fresh process

        async def click(t: dict[str, str] = task) -> None:
            r = await suite.business.post(
                f"/tasks/{t['id']}/complete",
                headers=approver,
                json={"decision": "approve", "opinion": "准予许可"},
            )
            assert r.status_code in (200, 409), r.text

        await retrying(click)
    # And kill management while it turns decisions into completions.
    restart(stack, "management")
    await asyncio.to_thread(stack.wait_ready, ["management", "business"])

    for case_no in case_nos:
        await suite.wait_status(applicant, case_no, "completed", timeout=90)

    # Every service: each case once, each step once.
    licences = set()
    for case_no in case_nos:
        mine = await suite.my_case(applicant, case_no)
        assert mine["outcome"] == "approved"
        licences.add(mine["result"]["licence"]["identifier"])
        staff = await suite.staff_case(acceptor, case_no)
        keys = [s["step_key"] for s in staff["steps"]]
        assert len(keys) == len(set(keys)), (case_no, keys)
        assert {"accept", "review", "decide"} <= set(keys)
        record = expect(await suite.datasharing.get(f"/cases/{case_no}", headers=acceptor), 200)
        ds_keys = [s["step_key"] for s in record["steps"]]
        assert len(ds_keys) == len(set(ds_keys)), (case_no, ds_keys)
    assert len(licences) == N

    # The bus: exactly one decision and one completion per case, whatever was retried.
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        business = await js.stream_info("YIWANG_BUSINESS", subjects_filter=">")
        management = await js.stream_info("YIWANG_MANAGEMENT", subjects_filter=">")
    finally:
        await nc.close()
    counts = Counter(business.state.subjects or {}) + Counter(management.state.subjects or {})
    assert counts["yiwang.business.case.decided.v1"] == N
    assert counts["yiwang.management.case.completed.v1"] == N
    assert counts["yiwang.management.case.accepted.v1"] == N
