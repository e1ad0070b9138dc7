"""决定书 PDF: 准予 and 不予, the 办件编号, legal basis, remedies with their limits, and the QR code."""

from __future__ import annotations

import io

import httpx
import pypdf
import zxingcpp
from business_testkit import ADMIN, APPROVER, ITEM, OTHER_ORG, REVIEWER, TakeOver, token
from PIL import Image
from test_business_decision import APPROVE, PERMIT, REFUSE, step

from yiwang_common.auth import Principal
from yiwang_common.testing import bearer

APPLICANT = bearer(
    Principal(sub="zhangsan", name="张三", kind="natural_person", roles=frozenset({"applicant"}))
)
STRANGER = bearer(Principal(sub="lisi", name="李四", kind="natural_person", roles=frozenset({"applicant"})))


def text_of(pdf: bytes) -> str:
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return text.replace(" ", "").replace("\n", "")


def qr_codes(pdf: bytes) -> list[str]:
    found = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            picture = Image.open(io.BytesIO(image.data)).convert("L")
            found += [code.text for code in zxingcpp.read_barcodes(picture)]
    return found


async def decide(client: httpx.AsyncClient, take_over: TakeOver, opinion: dict[str, str]) -> str:
    await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
    data = await take_over()
    await step(client, REVIEWER, data.case_no, APPROVE)
    assert (await step(client, APPROVER, data.case_no, opinion)).status_code == 200
    return data.case_no


class TestDecisionPdf:
    async def test_approval_pdf_has_case_number_legal_basis_remedies_and_progress_qr(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        case_no = await decide(client, take_over, APPROVE)
        response = await client.get(f"/api/v1/cases/{case_no}/decision.pdf", headers=APPLICANT)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        text = text_of(response.content)
        for expected in (
            "准予行政许可决定书",
            f"办件编号：{case_no}",
            "第三十八条第一款",
            "60日内",
            "行政复议",
            "6个月内",
            "行政诉讼",
            "电子证照标识：1.2.156.3005.2.",
        ):
            assert expected in text, expected
        assert qr_codes(response.content) == [f"http://127.0.0.1:8000/progress/{case_no}"]
        # The font is embedded (a subset), so the Chinese prints anywhere.
        assert b"/FontFile2" in response.content

    async def test_refusal_pdf_states_reasons_and_remedies(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        case_no = await decide(client, take_over, REFUSE)
        response = await client.get(f"/api/v1/cases/{case_no}/decision.pdf", headers=APPROVER)
        assert response.status_code == 200
        text = text_of(response.content)
        assert "不予行政许可决定书" in text and "施工图设计文件未经审查合格" in text
        assert "第三十八条第二款" in text and "60日内" in text and "6个月内" in text
        assert "电子证照标识" not in text

    async def test_only_the_deciding_unit_and_the_applicant_may_download(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        case_no = await decide(client, take_over, APPROVE)
        url = f"/api/v1/cases/{case_no}/decision.pdf"
        assert (await client.get(url, headers=STRANGER)).status_code == 404
        assert (await client.get(url, headers=token("approver", org=OTHER_ORG))).status_code == 404
        assert (await client.get(url)).status_code == 401
        assert (await client.get(url, headers=REVIEWER)).status_code == 200

    async def test_undecided_case_has_no_pdf(self, client: httpx.AsyncClient, take_over: TakeOver) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
        data = await take_over()
        response = await client.get(f"/api/v1/cases/{data.case_no}/decision.pdf", headers=REVIEWER)
        assert response.status_code == 404
        assert response.json()["code"] == "decision_not_found"
