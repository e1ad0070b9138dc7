"""窗口收件 Window intake: staff register an application brought to the hall for a citizen or a unit.

The same rules as an online application: the item's form schema, its material list, the same
registration (``register_case``: 办件编号, the intake rules, ``CaseRegistered``), then the same
acceptance, one-time notice or refusal. The citizen's 居民身份证 is read at the counter; its
number is checked with the GB 11643 check digit. Paper originals checked at the window are
recorded as such (media type ``application/vnd.yiwang.paper-original``, content address of the
record, not of a file) so the case's material list says what the window saw.

A unit (法人) is registered by its 统一社会信用代码, checked with the GB 32100 check character, with
its 法定代表人 and the natural person at the counter (经办人: the 法定代表人 in person, or an agent
with the unit's 授权委托书 on paper), whose 居民身份证 is checked as a citizen's (ADR 0119).
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import handling_scope
from yiwang_common.auth import Principal
from yiwang_common.checkdigits import resident_id_valid, uscc_valid
from yiwang_common.contracts.common import Agent, Applicant, MaterialRef
from yiwang_common.contracts.gateway import ApplicationSubmitted
from yiwang_common.db import utcnow
from yiwang_common.forms import form_errors, value_problems
from yiwang_common.masking import mask_id_number
from yiwang_management.case import service as case_service
from yiwang_management.case.errors import (
    AgentMismatch,
    CaseNotFound,
    CreditCodeInvalid,
    IdNumberInvalid,
    IntakeMaterialInvalid,
    ItemNotHandledHere,
)
from yiwang_management.case.models import Case
from yiwang_management.case.repository import CaseRepository
from yiwang_management.case.schemas import WindowApplicant, WindowIntakeRequest, WindowLegalApplicant
from yiwang_management.item.repository import ItemRepository

PAPER_MEDIA_TYPE = "application/vnd.yiwang.paper-original"
#: 证件类型 111: 居民身份证; 001: 统一社会信用代码.
RESIDENT_ID = "111"
CREDIT_CODE = "001"


class FormInvalid(IntakeMaterialInvalid):
    """The form does not satisfy the item's form schema."""

    code = "form_invalid"
    title = "申请表填写不完整或格式错误"


def paper_material(application_id: uuid.UUID, code: str, name: str) -> MaterialRef:
    """A paper original the window checked: its record's content address, not a file's."""
    digest = hashlib.sha256(f"paper-original|{application_id}|{code}".encode()).hexdigest()
    return MaterialRef(material_code=code, name=name, sha256=digest, size=1, media_type=PAPER_MEDIA_TYPE)


async def register_at_window(
    session: AsyncSession, *, body: WindowIntakeRequest, principal: Principal, region_code: str, source: str
) -> Case:
    """Register the application as a case (once per ``application_id``) and return it.

    Raises:
        IdNumberInvalid: the 公民身份号码's (the citizen's or the 经办人's) check digit does not match.
        CreditCodeInvalid: the 统一社会信用代码's check character does not match.
        AgentMismatch: the 经办人 says they are the 法定代表人 under another name.
        ItemNotHandledHere: no such item in force, or not of the staff member's unit and region.
        IntakeMaterialInvalid / FormInvalid: materials outside the item's list or twice; a bad form.
    """
    application_id = body.application_id or uuid.uuid4()
    applicant, agent, checked = _applicant(body.applicant, application_id)
    scope = handling_scope(principal)
    item = await ItemRepository(session).get(body.item_code)
    if (
        item is None
        or item.status != "in_force"
        or scope.org_code != item.org_code
        or scope.region_prefix is None
        or not region_code.startswith(scope.region_prefix)
    ):
        raise ItemNotHandledHere(f"本窗口不受理事项 {body.item_code}（须为本单位在用事项）")
    if problems := value_problems(body.form) or form_errors(item.form_schema, body.form):
        raise FormInvalid(
            "申请表：" + "；".join(f"{p['title']}：{p['error']}" for p in problems[:5]),
            fields=problems,
        )
    names = {m["code"]: m["name"] for m in item.materials}
    codes = [m.material_code for m in body.materials] + list(body.paper_materials)
    invalid = sorted({c for c in codes if c not in names or codes.count(c) > 1})
    if invalid:
        raise IntakeMaterialInvalid(f"材料编码无效或重复：{'、'.join(invalid)}", invalid_materials=invalid)
    materials = list(body.materials) + [
        paper_material(application_id, code, names[code]) for code in body.paper_materials
    ]
    now = utcnow()
    data = ApplicationSubmitted(
        application_id=application_id,
        item_code=item.item_code,
        applicant=applicant,
        agent=agent,
        form=body.form,
        materials=materials,
        channel="window",
        submitted_at=now,
    )
    record = await case_service.register_case(session, data, region_code=region_code, source=source)
    repository = CaseRepository.from_session(session)
    case_no = record.case_no if record else await repository.case_no_of(application_id)
    case = await repository.get_visible(case_no or "", scope) if case_no else None
    if case is None:
        raise CaseNotFound(f"申请 {application_id} 不是本窗口的办件")
    if record is not None:
        step = case_service.staff_step(
            case,
            principal,
            key="receive",
            name="窗口收件",
            action="pass",
            opinion=f"窗口收件登记，{checked}；材料 {len(materials)} 份",
            ended=now,
        )
        await repository.add_steps(case.case_no, [step])
    return case


def _applicant(
    given: WindowApplicant | WindowLegalApplicant, application_id: uuid.UUID
) -> tuple[Applicant, Agent | None, str]:
    """The case's applicant, its 经办人 (a unit's) and what the window checked, in words."""
    account_id = f"window-{application_id}"
    if isinstance(given, WindowApplicant):
        id_number = given.id_number.upper()
        if not resident_id_valid(id_number):
            raise IdNumberInvalid("公民身份号码校验位不正确，请核对证件")
        applicant = Applicant(
            account_id=account_id,
            name=given.name,
            kind="natural_person",
            id_type=RESIDENT_ID,
            id_number=id_number,
            phone=given.phone,
        )
        return applicant, None, "核验居民身份证"
    code = given.credit_code.upper()
    if not uscc_valid(code):
        raise CreditCodeInvalid("统一社会信用代码校验位不正确，请核对营业执照")
    person = given.agent
    person_id = person.id_number.upper()
    if not resident_id_valid(person_id):
        raise IdNumberInvalid("经办人公民身份号码校验位不正确，请核对证件")
    in_person = person.role == "legal_representative"
    if in_person and person.name != given.legal_representative:
        raise AgentMismatch(
            f"到场人“{person.name}”不是法定代表人“{given.legal_representative}”，请按受托经办人登记并核验授权委托书"
        )
    applicant = Applicant(
        account_id=account_id,
        name=given.name,
        kind="legal_person",
        id_type=CREDIT_CODE,
        id_number=code,
        phone=person.phone,
    )
    agent = Agent(
        account_id=f"{account_id}-agent",
        name=person.name,
        id_number_masked=mask_id_number(person_id) or "",
        role=person.role,
    )
    checked = f"核验营业执照（法定代表人 {given.legal_representative}）及" + (
        "法定代表人居民身份证" if in_person else f"经办人 {person.name} 的居民身份证和授权委托书"
    )
    return applicant, agent, checked
