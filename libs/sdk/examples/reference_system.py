"""参考外部系统 A reference department system, run as its own process: it knows only yiwang-sdk.

It polls the parts dispatched to it, reports two steps (受理, 审查) and a result, then acknowledges
the dispatch. What it has done is kept in a journal file (its "own database"), so when it is
stopped and started again it re-sends identical reports — which the platform recognises — instead
of new ones. A part whose form lists the item's code under ``refuse_items`` is refused.

Usage::

    YIWANG_PLUGIN_SECRET=... python reference_system.py --base-url http://127.0.0.1:8002 \
        --client-id sys-... --journal /tmp/ref.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yiwang_contracts.common import DecisionDocument
from yiwang_sdk import DispatchWorker, JointPartDispatched, PluginClient, ResultReport, StepReport
from yiwang_sdk.worker import PartHandler

log = logging.getLogger("reference_system")


class Journal:
    """The system's own record of what it did, one JSON file written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else {}

    def moment(self, part_no: str, key: str) -> datetime:
        """The time recorded for ``key`` of a part; recorded now the first time it is asked for."""
        entry = self.data.setdefault(part_no, {})
        if key not in entry:
            entry[key] = datetime.now(UTC).isoformat()
            self.save()
        return datetime.fromisoformat(entry[key])

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), "utf-8")
        tmp.replace(self.path)


def handler_for(journal: Journal, officer: str, *, steps_only: bool = False) -> PartHandler:
    """The system's work on one part: 受理, 审查, then its decision (idempotent through the journal)."""

    async def handle(client: PluginClient, part: JointPartDispatched) -> None:
        t0 = journal.moment(part.part_no, "received")
        t1 = journal.moment(part.part_no, "accepted")
        await client.report_step(
            part.part_no,
            StepReport(step_key="accept", step_name="受理", handler_name=officer, started_at=t0, ended_at=t1),
        )
        t2 = journal.moment(part.part_no, "reviewed")
        await client.report_step(
            part.part_no,
            StepReport(
                step_key="review",
                step_name="审查",
                handler_name=officer,
                opinion="材料齐全",
                started_at=t1,
                ended_at=t2,
            ),
        )
        if steps_only:
            return
        refused = part.item_code in part.form.get("refuse_items", [])
        t3 = journal.moment(part.part_no, "decided")
        title = "不予行政许可决定书" if refused else "准予行政许可决定书"
        await client.report_result(
            part.part_no,
            ResultReport(
                outcome="refused" if refused else "approved",
                reason="不符合规划条件" if refused else None,
                decision=DecisionDocument(
                    document_no=f"{part.department.name[:2]}许〔{t3:%Y}〕{part.part_no[-6:]}号",
                    title=title,
                    body=f"{part.applicant.name}申请的{part.item_name}，经审查，{'不予许可' if refused else '准予许可'}。",
                    decided_at=t3,
                    decider_name=officer,
                    org=part.department,
                ),
            ),
        )
        log.info("part %s handled", part.part_no)

    return handle


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--secret-env", default="YIWANG_PLUGIN_SECRET")
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--officer", default="外部系统审批员")
    parser.add_argument("--poll-seconds", type=float, default=0.2)
    parser.add_argument(
        "--crash-after-steps",
        action="store_true",
        help="fault drill: report the first dispatch's steps, then exit without a result or an acknowledgement",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with PluginClient(
        args.base_url, client_id=args.client_id, client_secret=os.environ[args.secret_env]
    ) as client:
        if args.crash_after_steps:
            handle = handler_for(Journal(args.journal), args.officer, steps_only=True)
            while True:
                pending = (await client.dispatches()).items
                if pending:
                    break
                await asyncio.sleep(args.poll_seconds)
            await handle(client, pending[0].part)
            log.info("crashing after the steps of %s", pending[0].part.part_no)
            return
        worker = DispatchWorker(
            client, handler_for(Journal(args.journal), args.officer), poll_seconds=args.poll_seconds
        )
        log.info("reference system polling %s", args.base_url)
        await worker.run_forever(stop)


if __name__ == "__main__":
    asyncio.run(main())
