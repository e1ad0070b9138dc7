"""yiwang_sdk.BusDispatches on real NATS JetStream: a system's parts only, once each, kept while it is
away, redelivered when its handler fails (ADR 0112)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from nats.aio.client import Client as NatsClient

from yiwang_common.contracts.common import Applicant, Organisation
from yiwang_common.contracts.management import JointPartDispatched
from yiwang_common.events import make_event
from yiwang_common.events.outbox import serialize
from yiwang_common.testing import fresh_streams
from yiwang_sdk import BusDispatches

JOINT_NO = "53042820261202000001V"
MARKET = Organisation(name="元江县市场监督管理局", code="11530428015176456L")


def part(seq: int, system_id: str | None) -> JointPartDispatched:
    part_no = f"{JOINT_NO}P{seq:02d}"
    return JointPartDispatched(
        joint_no=JOINT_NO,
        part_no=part_no,
        application_id=uuid.uuid5(uuid.NAMESPACE_URL, part_no),
        item_code="11530428015176456L2000109003000",
        item_name="食品经营许可",
        department=MARKET,
        handler="external" if system_id else "builtin",
        system_id=system_id,
        applicant=Applicant(
            account_id="acct-1",
            name="张三",
            kind="natural_person",
            id_type="111",
            id_number="530428199001011231",
        ),
        form={},
        materials=[],
        accepted_at=datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
        limit_days=5,
        due_date=date(2026, 12, 9),
    )


@pytest.fixture
async def nc(nc: NatsClient) -> NatsClient:
    await fresh_streams(nc.jetstream(), "management")
    return nc


async def publish(nc: NatsClient, data: JointPartDispatched, *, msg_id: str | None = None) -> None:
    envelope = make_event(data, source="urn:yiwang:530428:management", subject=data.part_no)
    await nc.jetstream().publish(
        data.subject, serialize(envelope), headers={"Nats-Msg-Id": msg_id or str(envelope.id)}
    )


async def test_only_own_parts_once_and_kept_while_away(nc: NatsClient) -> None:
    js = nc.jetstream()
    seen: list[str] = []

    async def handle(p: JointPartDispatched) -> None:
        seen.append(p.part_no)

    await publish(nc, part(1, "sys-market"), msg_id="one")
    await publish(nc, part(1, "sys-market"), msg_id="one")  # a relay re-send: dropped by JetStream
    await publish(nc, part(2, None))
    await publish(nc, part(3, "sys-other"))
    reader = BusDispatches(js, system_id="sys-market")
    assert await reader.fetch(handle) == 1
    assert seen == [f"{JOINT_NO}P01"]
    await reader.close()
    # Away: the part published now waits on the durable consumer for the next run.
    await publish(nc, part(4, "sys-market"))
    again = BusDispatches(js, system_id="sys-market")
    assert await again.fetch(handle) == 1
    assert seen == [f"{JOINT_NO}P01", f"{JOINT_NO}P04"]
    assert await again.fetch(handle, timeout=0.2) == 0
    await again.close()


async def test_a_failed_handler_gets_the_part_again(nc: NatsClient) -> None:
    js = nc.jetstream()
    await publish(nc, part(5, "sys-market"))
    attempts: list[str] = []

    async def flaky(p: JointPartDispatched) -> None:
        attempts.append(p.part_no)
        if len(attempts) == 1:
            raise RuntimeError("the department's database is down")

    reader = BusDispatches(js, system_id="sys-market", durable="plugin_flaky")
    with pytest.raises(RuntimeError):
        await reader.fetch(flaky)
    assert await reader.fetch(flaky) == 1
    assert attempts == [f"{JOINT_NO}P05", f"{JOINT_NO}P05"]
    await reader.close()
