"""``make demo``: with ``make dev`` running, drive one application through the whole flow using
the public REST APIs only, print the case's timeline, and exit non-zero if any step fails.

It finds the services on the ports ``make dev`` used (``GATEWAY_PORT`` …); set
``YIWANG_GATEWAY_URL`` etc. to point at another deployment.
"""

from __future__ import annotations

import asyncio
import os
import sys

import httpx

from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, FlowError, Suite, pdf_bytes
from scripts.stack import resolve_ports


def say(text: str) -> None:
    print(f"  • {text}", flush=True)


async def run(urls: dict[str, str]) -> None:
    suite = Suite.connect(urls)
    try:
        applicant = await suite.login("zhangsan")
        acceptor = await suite.login("chuangkou")
        reviewer = await suite.login("shencha")
        approver = await suite.login("juece")
        item = await suite.item(CONSTRUCTION_PERMIT)
        say(f"事项 item: {item['name']} ({item['item_code']}), {len(item['materials'])} 项申请材料")

        held_back = {item["materials"][-1]["code"]}
        refs = await suite.upload_materials(applicant, item, "demo", skip=held_back)
        say(f"张三 uploaded {len(refs)} materials to data-sharing (held back {', '.join(held_back)})")
        submitted = await suite.submit(applicant, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs)
        case_no = await suite.case_no_of(applicant, submitted["application_id"])
        say(f"submitted application {submitted['application_id']} → 办件编号 {case_no}")

        await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
        notice = await suite.notice(acceptor, case_no)
        say(
            f"窗口 issued a one-time notice (一次性告知) for: {', '.join(m['name'] for m in notice['missing_materials'])}"
        )
        await suite.wait_status(applicant, case_no, "awaiting_supplement")
        supplement = []
        for code in sorted(held_back):
            uploaded = await suite.upload(applicant, pdf_bytes(f"demo-supplement-{code}"), f"{code}.pdf")
            supplement.append({"material_code": code, "sha256": uploaded["sha256"]})
        await suite.supplement(applicant, case_no, supplement)
        say("张三 supplemented the missing material")

        await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
        accepted = await suite.accept(acceptor, case_no)
        say(f"窗口 accepted the case (受理); promised due date {accepted['due_date']}")

        review = await suite.task_for(reviewer, case_no)
        await suite.complete(reviewer, review["id"], "approve", "材料齐全，符合法定条件")
        say("审查 done by 住建局 reviewer")
        final = await suite.task_for(approver, case_no)
        await suite.complete(approver, final["id"], "approve", "准予许可")
        say("决定 made by 住建局 approver: 准予许可")

        done = await suite.wait_status(applicant, case_no, "completed")
        print(f"\n办件 {case_no} — {done['status_text']} ({done['outcome']})")
        for entry in done["timeline"]:
            detail = f" — {entry['detail']}" if entry.get("detail") else ""
            print(f"  {entry['at']}  {entry['title']}{detail}")
        licence = (done.get("result") or {}).get("licence")
        if licence:
            print(f"\n电子证照 e-licence: {licence['type_name']} {licence['identifier']}")
        staff = await suite.staff_case(acceptor, case_no)
        print(f"按时办结 on time: {staff['on_time']}  (used {staff.get('working_days_used')} working days)")
    finally:
        await suite.aclose()


def main() -> int:
    urls = {
        name: os.environ.get(f"YIWANG_{name.upper().replace('-', '')}_URL", url)
        for name, url in {n: f"http://127.0.0.1:{p}" for n, p in resolve_ports(os.environ).items()}.items()
    }
    print("yiwang demo: 建筑工程施工许可证核发, from application to e-licence\n")
    try:
        asyncio.run(run(urls))
    except FlowError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    except (OSError, httpx.TransportError) as exc:
        print(f"\nFAILED: cannot reach the suite ({exc}); is `make dev` running?", file=sys.stderr)
        return 1
    print("\ndemo OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
