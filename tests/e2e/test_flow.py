"""The guideline's core flow (Figures 3-2 and 3-6) through all four services, as real processes.

A citizen applies online, management registers the case and either accepts it or sends a
one-time notice, the department reviews and decides, and the result comes back to the
citizen by 办件编号 — and nobody else can see it.
"""

from __future__ import annotations

import pytest

from scripts import demo
from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, Suite, eventually, expect, pdf_bytes
from scripts.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e


async def apply(
    suite: Suite, username: str, *, skip: set[str] | None = None, label: str = "e2e"
) -> tuple[dict[str, str], str]:
    auth = await suite.login(username)
    item = await suite.item(CONSTRUCTION_PERMIT)
    refs = await suite.upload_materials(auth, item, f"{label}-{username}", skip=skip)
    submitted = await suite.submit(auth, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs)
    case_no = await suite.case_no_of(auth, submitted["application_id"])
    return auth, case_no


async def decide(suite: Suite, case_no: str, decision: str) -> None:
    reviewer = await suite.login("shencha")
    approver = await suite.login("juece")
    review = await suite.task_for(reviewer, case_no)
    assert review["step_name"] == "审查"
    await suite.complete(reviewer, review["id"], "approve", "材料真实有效，符合法定条件")
    final = await suite.task_for(approver, case_no)
    assert final["step_name"] == "决定"
    opinion = "准予许可" if decision == "approve" else "施工图设计文件未经审查合格，不符合第四条第（六）项"
    await suite.complete(approver, final["id"], decision, opinion)


class TestApprovedWithSupplementLoop:
    async def test_missing_materials_notice_supplement_accept_approve(self, suite: Suite) -> None:
        item = await suite.item(CONSTRUCTION_PERMIT)
        required = [m["code"] for m in item["materials"] if m["required"]]
        held_back = set(required[-2:])
        applicant, case_no = await apply(suite, "zhangsan", skip=held_back, label="loop")
        assert len(case_no) == 21 and case_no.startswith("530428")

        acceptor = await suite.login("chuangkou")
        registered = await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
        assert {m["code"] for m in registered["missing_materials"]} == held_back
        # Acceptance with materials missing is refused: the one-time notice is the only way on.
        r = await suite.management.post(f"/cases/{case_no}/accept", headers=acceptor, json={})
        assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
        notice = await suite.notice(acceptor, case_no)
        assert {m["code"] for m in notice["missing_materials"]} == held_back

        view = await suite.wait_status(applicant, case_no, "awaiting_supplement")
        assert {m["code"] for m in view["missing_materials"]} == held_back
        extra = []
        for code in sorted(held_back):
            uploaded = await suite.upload(applicant, pdf_bytes(f"supplement-{code}"), f"{code}.pdf")
            extra.append({"material_code": code, "sha256": uploaded["sha256"]})
        await suite.supplement(applicant, case_no, extra)

        ready = await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
        assert ready["missing_materials"] == []
        accepted = await suite.accept(acceptor, case_no)
        assert accepted["status"] == "accepted" and accepted["due_date"]
        await decide(suite, case_no, "approve")

        done = await suite.wait_status(applicant, case_no, "completed")
        assert done["outcome"] == "approved"
        licence = done["result"]["licence"]
        assert licence["identifier"].startswith("1.2.156.3005.2.11100000000013338W032.11530428015176456L.")
        titles = [entry["title"] for entry in done["timeline"]]
        assert (
            titles[0] == "已提交申请"
            and any("一次性告知" in t for t in titles)
            and any("补正" in t for t in titles)
        )
        assert any("受理" in t for t in titles) and titles[-1].startswith("已办结")
        step_names = [s["step_name"] for s in done["steps"]]
        assert step_names[-2:] == ["审查", "决定"]

        # Management followed every step with start, end and handler, and judged the deadline.
        staff_view = await suite.wait_staff_status(acceptor, case_no, "completed")
        assert staff_view["on_time"] is True
        assert all(s["handler_name"] and s["started_at"] and s["ended_at"] for s in staff_view["steps"])

        # Data-sharing holds the record, every process step, and the e-licence.
        async def recorded() -> dict[str, object] | None:
            body = expect(await suite.datasharing.get(f"/cases/{case_no}", headers=acceptor), 200)
            return body if body["status"] == "completed" else None

        record = await eventually(recorded)
        assert [s["step_key"] for s in record["steps"]][-2:] == ["review", "decide"]
        lic = expect(
            await suite.datasharing.get(f"/licences/{licence['identifier']}", headers=applicant), 200
        )
        assert lic["case_no"] == case_no


class TestRefusals:
    async def test_department_refuses_after_review(self, suite: Suite) -> None:
        applicant, case_no = await apply(suite, "yjcj", label="refuse")
        acceptor = await suite.login("chuangkou")
        await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
        await suite.accept(acceptor, case_no)
        await decide(suite, case_no, "refuse")
        done = await suite.wait_status(applicant, case_no, "completed")
        assert done["outcome"] == "refused"
        assert done["result"]["licence"] is None
        assert "不予" in done["result"]["decision"]["title"]

    async def test_window_refuses_to_accept_with_reason(self, suite: Suite) -> None:
        applicant, case_no = await apply(suite, "zhangsan", label="reject")
        acceptor = await suite.login("chuangkou")
        await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
        await suite.reject(acceptor, case_no, "项目不在元江县辖区范围内，不属于本机关职权范围")
        view = await suite.wait_status(applicant, case_no, "not_accepted")
        assert any("不属于本机关" in (e.get("detail") or "") for e in view["timeline"])


class TestNobodyElseSeesTheCase:
    async def test_other_applicant_staff_and_forged_tokens_get_4xx(self, suite: Suite) -> None:
        owner, case_no = await apply(suite, "zhangsan", label="privacy")
        other = await suite.login("lisi")
        r = await suite.gateway.get(f"/cases/{case_no}", headers=other)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        forged = {"Authorization": owner["Authorization"][:-4] + "AAAA"}
        for client, path in (
            (suite.gateway, f"/cases/{case_no}"),
            (suite.management, f"/cases/{case_no}"),
            (suite.datasharing, f"/cases/{case_no}"),
            (suite.business, "/tasks"),
        ):
            r = await client.get(path, headers=forged)
            assert r.status_code == 401, (path, r.text)
            assert r.json()["status"] == 401
        r = await suite.datasharing.get(f"/cases/{case_no}", headers=other)
        assert r.status_code == 404
        # Applicants cannot act as staff.
        r = await suite.management.post(f"/cases/{case_no}/accept", headers=owner, json={})
        assert r.status_code in (403, 404)


class TestBadInputChangesNothing:
    async def test_bad_submissions_are_problems_and_store_nothing(self, suite: Suite) -> None:
        auth = await suite.login("lisi")
        before = expect(await suite.gateway.get("/applications", headers=auth), 200)["pagination"][
            "total_count"
        ]
        item = await suite.item(CONSTRUCTION_PERMIT)
        refs = await suite.upload_materials(auth, item, "bad-input")
        cases = [
            {"item_code": "NO-SUCH-ITEM", "form": CONSTRUCTION_FORM, "materials": refs},
            {"item_code": CONSTRUCTION_PERMIT, "materials": refs},
            {"item_code": CONSTRUCTION_PERMIT, "form": {}, "materials": refs},
            {
                "item_code": CONSTRUCTION_PERMIT,
                "form": CONSTRUCTION_FORM,
                "materials": [{"material_code": "M01", "sha256": "0" * 64}],
            },
            {
                "item_code": CONSTRUCTION_PERMIT,
                "form": CONSTRUCTION_FORM,
                "materials": [{"material_code": "NOPE", "sha256": refs[0]["sha256"]}],
            },
            "not json at all",
            # Over the wire as a client would send them (ADR 0012): a 5 MB form, an invalid date,
            # a lone surrogate, bytes that are not UTF-8.
            b'{"item_code": "%s", "form": {"x": "' % CONSTRUCTION_PERMIT.encode() + b"x" * 5_000_000 + b'"}}',
            {"item_code": CONSTRUCTION_PERMIT, "form": CONSTRUCTION_FORM | {"计划开工日期": "2027-02-30"}},
            {"item_code": CONSTRUCTION_PERMIT, "form": CONSTRUCTION_FORM | {"建设规模": -1}},
            b'{"item_code": "%s", "form": {"\xe5\xb7\xa5": "\\ud800"}}' % CONSTRUCTION_PERMIT.encode(),
            b'{"item_code": "\xff"}',
        ]
        for body in cases:
            if isinstance(body, str | bytes):
                r = await suite.gateway.post(
                    "/applications", headers=auth | {"content-type": "application/json"}, content=body
                )
            else:
                r = await suite.gateway.post("/applications", headers=auth, json=body)
            assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            problem = r.json()
            assert problem["status"] == r.status_code and problem["title"] and problem["type"]
        after = expect(await suite.gateway.get("/applications", headers=auth), 200)["pagination"][
            "total_count"
        ]
        assert after == before

    async def test_oversize_and_wrong_type_uploads_are_refused(self, suite: Suite) -> None:
        auth = await suite.login("lisi")
        r = await suite.gateway.post(
            "/materials",
            headers=auth,
            files={"file": ("x.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")},
        )
        assert r.status_code == 415, r.text
        big = b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024)
        r = await suite.gateway.post(
            "/materials", headers=auth, files={"file": ("big.pdf", big, "application/pdf")}
        )
        assert r.status_code == 413, r.text
        r = await suite.gateway.post(
            "/materials", files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")}
        )
        assert r.status_code == 401

    async def test_idempotent_resubmission_creates_one_application(self, suite: Suite) -> None:
        auth = await suite.login("lisi")
        item = await suite.item(CONSTRUCTION_PERMIT)
        refs = await suite.upload_materials(auth, item, "idem")
        before = expect(await suite.gateway.get("/applications", headers=auth), 200)["pagination"][
            "total_count"
        ]
        first = await suite.submit(
            auth, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs, idempotency_key="e2e-idem-1"
        )
        again = await suite.submit(
            auth, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs, idempotency_key="e2e-idem-1"
        )
        assert again["application_id"] == first["application_id"]
        after = expect(await suite.gateway.get("/applications", headers=auth), 200)["pagination"][
            "total_count"
        ]
        assert after == before + 1
        case_no = await suite.case_no_of(auth, first["application_id"])
        staff = await suite.login("chuangkou")
        listed = expect(await suite.management.get("/cases", headers=staff, params={"limit": 100}), 200)[
            "items"
        ]
        assert [c["case_no"] for c in listed].count(case_no) == 1


class TestDemoRunbook:
    async def test_make_demo_runs_against_the_suite(
        self, stack: Stack, capsys: pytest.CaptureFixture[str]
    ) -> None:
        await demo.run({svc.name: stack.url(svc.name) for svc in SERVICES})
        out = capsys.readouterr().out
        assert "已办结" in out and "电子证照 e-licence: 建筑工程施工许可证 1.2.156.3005.2." in out
