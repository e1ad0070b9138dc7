"""API models of cases (办件) and their actions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from yiwang_common.contracts.common import (
    Applicant,
    DecisionDocument,
    ELicence,
    MaterialRef,
    MissingMaterial,
    Organisation,
)
from yiwang_common.jsonvalues import JsonObject
from yiwang_common.text import Code, MultilineText, Name, Text
from yiwang_management.case.kinds import kind_name
from yiwang_management.case.models import STATUS_TEXT
from yiwang_management.case.repository import AnyCase

CaseStatus = Literal["pending_acceptance", "awaiting_supplement", "accepted", "not_accepted", "completed"]


class StepLike(Protocol):
    """A stored step: a ``CaseStep`` or a row or view with its attributes."""

    @property
    def step_key(self) -> str: ...
    @property
    def step_name(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def handler_id(self) -> str: ...
    @property
    def handler_name(self) -> str: ...
    @property
    def opinion(self) -> str: ...
    @property
    def org_name(self) -> str: ...
    @property
    def org_code(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...


class CaseSummaryLike(Protocol):
    """What a list entry reads of a case."""

    @property
    def case_no(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def item_code(self) -> str: ...
    @property
    def item_name(self) -> str: ...
    @property
    def applicant(self) -> dict[str, Any]: ...
    @property
    def registered_at(self) -> datetime: ...
    @property
    def missing_materials(self) -> list[dict[str, Any]]: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def on_time(self) -> bool | None: ...
    @property
    def case_kind(self) -> str | None: ...


#: 意见 / 理由: opinions and reasons, one or more lines, no control characters (they reach printed notices).
Text500 = Annotated[MultilineText, Field(max_length=500)]

CASE_NO_EXAMPLE = "53042820261123000001E"


class DeferredMaterial(BaseModel):
    """容缺材料 A non-key material accepted as owed (容缺受理)."""

    model_config = ConfigDict(extra="forbid")

    code: Code = Field(description="材料编码", examples=["M08"])
    reason: Annotated[Text, Field(max_length=200)] = Field(
        default="容缺后补", description="容缺说明", examples=["申请人承诺后补"]
    )


class AcceptRequest(BaseModel):
    """受理 Acceptance; with ``deferred_materials`` a 容缺受理 (the case waits for them before any decision)."""

    model_config = ConfigDict(extra="forbid")

    opinion: Text500 = Field(default="材料齐全，予以受理", description="受理意见")
    deferred_materials: list[DeferredMaterial] | None = Field(
        default=None,
        max_length=20,
        description="容缺受理: missing non-key materials owed after acceptance (the item must allow 容缺)",
        examples=[[{"code": "M08", "reason": "申请人承诺后补"}]],
    )
    supply_by: date | None = Field(
        default=None,
        description="容缺材料补齐期限 (required with deferred_materials)",
        examples=["2026-12-10"],
    )

    @model_validator(mode="after")
    def _deferral_complete(self) -> AcceptRequest:
        if self.deferred_materials and self.supply_by is None:
            raise ValueError("容缺受理须注明补齐期限 supply_by")
        if self.supply_by is not None and not self.deferred_materials:
            raise ValueError("supply_by 仅用于容缺受理 (deferred_materials)")
        return self


class DeferredSupply(BaseModel):
    """补齐容缺材料 The owed materials, handed in."""

    model_config = ConfigDict(extra="forbid")

    materials: list[MaterialRef] = Field(
        min_length=1,
        max_length=20,
        description="补齐的容缺材料",
        examples=[
            [
                {
                    "material_code": "M08",
                    "name": "建设资金已经落实的证明",
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "size": 20480,
                    "media_type": "application/pdf",
                }
            ]
        ],
    )


class WindowApplicant(BaseModel):
    """窗口申请人 The citizen at the window (居民身份证, checked at the counter)."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="姓名", examples=["张三"])
    id_number: Annotated[str, Field(pattern=r"^[0-9]{17}[0-9Xx]$")] = Field(
        description="公民身份号码 (GB 11643, check digit verified)", examples=["530428199001011237"]
    )
    phone: Annotated[str, Field(pattern=r"^1[0-9]{10}$")] | None = Field(
        default=None, description="手机号码", examples=["13800000000"]
    )


IdNumber = Annotated[str, Field(pattern=r"^[0-9]{17}[0-9Xx]$")]
Mobile = Annotated[str, Field(pattern=r"^1[0-9]{10}$")]


class WindowAgent(BaseModel):
    """经办人 The natural person at the counter for a unit: its 法定代表人 in person, or an agent."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="经办人姓名", examples=["李四"])
    id_number: IdNumber = Field(
        description="经办人公民身份号码 (GB 11643, check digit verified)", examples=["530428198506121239"]
    )
    role: Literal["agent", "legal_representative"] = Field(
        default="agent",
        description="agent 受托经办人 (with the unit's 授权委托书) / legal_representative 法定代表人本人",
    )
    phone: Mobile | None = Field(default=None, description="手机号码", examples=["13900000000"])


class WindowLegalApplicant(BaseModel):
    """窗口申请单位 A legal person applying at the window (营业执照 checked at the counter)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["legal_person"] = Field(description="申请人类型: 法人")
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")] = Field(
        description="单位名称", examples=["元江县滨江置业有限公司"]
    )
    credit_code: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{18}$")] = Field(
        description="统一社会信用代码 (GB 32100, check character verified)", examples=["91530428MA6K000028"]
    )
    legal_representative: Name = Field(description="法定代表人姓名", examples=["王五"])
    agent: WindowAgent = Field(
        description="到场经办人; an agent's 授权委托书 is checked on paper at the counter"
    )


def _applicant_kind(value: Any) -> str:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return "legal_person" if kind == "legal_person" else "natural_person"


class WindowIntakeRequest(BaseModel):
    """窗口收件 An application brought to the hall, registered by window staff for a citizen."""

    model_config = ConfigDict(extra="forbid")

    application_id: uuid.UUID | None = Field(
        default=None, description="申请标识 from the form (a re-sent form registers nothing twice)"
    )
    item_code: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,64}$")] = Field(
        description="实施编码", examples=["11530428015176456L2000109003000"]
    )
    applicant: Annotated[
        Annotated[WindowApplicant, Tag("natural_person")]
        | Annotated[WindowLegalApplicant, Tag("legal_person")],
        Discriminator(_applicant_kind),
    ] = Field(
        description="申请人: a citizen (居民身份证) or, with ``kind: legal_person``, a unit and its 经办人"
    )
    form: JsonObject = Field(default_factory=dict, description="申请表")
    materials: list[MaterialRef] = Field(default_factory=list, max_length=100, description="扫描件")
    paper_materials: list[Code] = Field(
        default_factory=list, max_length=100, description="窗口核验的纸质原件 (材料编码)", examples=[["M01"]]
    )


class NoticeMaterial(BaseModel):
    """告知材料 One material a one-time notice asks for."""

    model_config = ConfigDict(extra="forbid")

    code: Code = Field(description="材料编码", examples=["M03"])
    reason: Annotated[Text, Field(max_length=200)] = Field(
        default="未提交", description="补正原因", examples=["未提交"]
    )


class SupplementNoticeRequest(BaseModel):
    """一次性告知 A one-time notice (补正告知)."""

    model_config = ConfigDict(extra="forbid")

    missing_materials: list[NoticeMaterial] | None = Field(
        default=None,
        max_length=100,
        description="需补正的材料; null = every required material still missing",
        examples=[[{"code": "M03", "reason": "未提交"}]],
    )
    note: Text500 | None = Field(default=None, description="补充说明")


class RejectRequest(BaseModel):
    """不予受理 Refusal to accept."""

    model_config = ConfigDict(extra="forbid")

    reason: Text500 = Field(description="不予受理理由", examples=["申请事项不属于本机关职权范围"])


class DeferredLapse(BaseModel):
    """容缺逾期退回 Return a 容缺 case whose owed material did not come by its date."""

    model_config = ConfigDict(extra="forbid")

    reason: Text500 | None = Field(
        default=None,
        description="补充说明 (the notice names the owed materials and the date itself)",
        examples=["申请人电话告知无法取得该材料"],
    )


class ItemRef(BaseModel):
    """事项 The item applied for."""

    item_code: str = Field(examples=["11530428015176456L2000109003000"])
    name: str = Field(examples=["建筑工程施工许可证核发"])


class CaseStepSchema(BaseModel):
    """办理环节 One recorded step."""

    step_key: str = Field(examples=["accept"])
    step_name: str = Field(examples=["受理"])
    action: str = Field(examples=["pass"])
    handler_id: str
    handler_name: str = Field(examples=["窗口受理人员"])
    opinion: str
    org: Organisation
    started_at: datetime
    ended_at: datetime
    duration_seconds: float = Field(ge=0, description="办理时长 (秒)")
    status: str = Field(examples=["2"])

    @classmethod
    def from_step(cls, step: StepLike) -> Self:
        """Build the read model; the duration is derived, never stored."""
        return cls(
            step_key=step.step_key,
            step_name=step.step_name,
            action=step.action,
            handler_id=step.handler_id,
            handler_name=step.handler_name,
            opinion=step.opinion,
            org=Organisation(name=step.org_name, code=step.org_code),
            started_at=step.started_at,
            ended_at=step.ended_at,
            duration_seconds=max((step.ended_at - step.started_at).total_seconds(), 0.0),
            status=step.status,
        )


class CaseSummary(BaseModel):
    """办件摘要 A case as the staff list shows it."""

    case_no: str = Field(examples=[CASE_NO_EXAMPLE])
    status: CaseStatus
    status_text: str = Field(examples=["待受理"])
    item: ItemRef
    applicant_name: str = Field(examples=["张三"])
    registered_at: datetime
    missing_materials: list[MissingMaterial]
    due_date: date | None = Field(description="承诺办结日期")
    on_time: bool | None = Field(description="是否按时办结; null until completed")
    case_kind: str | None = Field(default=None, description="办件类别代码 (六件管理)", examples=["2"])
    case_kind_name: str | None = Field(default=None, description="办件类别", examples=["承诺件"])

    @classmethod
    def from_case(cls, case: CaseSummaryLike) -> Self:
        """Build the list entry of a case (a ``Case`` or a row with the list's columns)."""
        return cls(
            case_no=case.case_no,
            status=case.status,
            status_text=STATUS_TEXT[case.status],
            item=ItemRef(item_code=case.item_code, name=case.item_name),
            applicant_name=str(case.applicant.get("name", "")),
            registered_at=case.registered_at,
            missing_materials=[MissingMaterial.model_validate(m) for m in case.missing_materials],
            due_date=case.due_date,
            on_time=case.on_time,
            case_kind=case.case_kind,
            case_kind_name=kind_name(case.case_kind),
        )


class SupplementNotice(BaseModel):
    """补正告知书 The one-time notice issued."""

    notice_no: str
    notice_text: str
    issued_at: datetime


class Rejection(BaseModel):
    """不予受理通知书 The refusal issued."""

    notice_no: str
    reason: str
    rejected_at: datetime


class CaseDetail(CaseSummary):
    """办件详情 A case with everything staff need to act on it."""

    application_id: uuid.UUID
    implementing_org: Organisation
    applicant: Applicant
    channel: str = Field(examples=["online"])
    form: dict[str, Any]
    materials: list[MaterialRef]
    submitted_at: datetime
    steps: list[CaseStepSchema]
    acceptance_notice_no: str | None
    accepted_at: datetime | None
    clock_start: date | None = Field(description="时限起算日")
    statutory_due_date: date | None = Field(description="法定办结日期")
    promised_limit_days: int
    statutory_limit_days: int
    supplement_notice: SupplementNotice | None
    rejection: Rejection | None
    outcome: Literal["approved", "refused"] | None
    decision: DecisionDocument | None
    licence: ELicence | None
    completed_at: datetime | None
    working_days_used: int | None
    pending_materials: list[MissingMaterial] = Field(
        default_factory=list, description="容缺材料: owed; no decision until they arrive"
    )
    pending_due_date: date | None = Field(default=None, description="容缺材料补齐期限")
    notices: list[str] = Field(
        default_factory=list,
        description="出具的通知书: acceptance / supplement / rejection (GET …/notices/{kind}.pdf)",
        examples=[["acceptance"]],
    )

    @classmethod
    def build(cls, case: AnyCase, steps: Sequence[StepLike]) -> Self:
        """Build the detail view of a case and its steps."""
        return cls.model_validate(
            {
                "case_no": case.case_no,
                "status": case.status,
                "status_text": STATUS_TEXT[case.status],
                "item": ItemRef(item_code=case.item_code, name=case.item_name),
                "applicant_name": str(case.applicant.get("name", "")),
                "registered_at": case.registered_at,
                "missing_materials": case.missing_materials,
                "due_date": case.due_date,
                "on_time": case.on_time,
                "application_id": case.application_id,
                "implementing_org": {"name": case.org_name, "code": case.org_code},
                "applicant": case.applicant,
                "channel": case.channel,
                "form": case.form,
                "materials": case.materials,
                "submitted_at": case.submitted_at,
                "steps": [CaseStepSchema.from_step(s) for s in steps],
                "acceptance_notice_no": case.acceptance_notice_no,
                "accepted_at": case.accepted_at,
                "clock_start": case.clock_start,
                "statutory_due_date": case.statutory_due_date,
                "promised_limit_days": case.promised_limit_days,
                "statutory_limit_days": case.statutory_limit_days,
                "supplement_notice": _notice(case),
                "rejection": _rejection(case),
                "outcome": case.outcome,
                "decision": case.decision,
                "licence": case.licence,
                "completed_at": case.completed_at,
                "working_days_used": case.working_days_used,
                "case_kind": case.case_kind,
                "case_kind_name": kind_name(case.case_kind),
                "pending_materials": case.pending_materials or [],
                "pending_due_date": case.pending_due_date,
                "notices": issued_notices(case),
            }
        )


NoticeKind = Literal["acceptance", "supplement", "rejection"]


def issued_notices(case: AnyCase) -> list[str]:
    """The kinds of notice the case has (each one downloadable as a PDF)."""
    found = [
        ("acceptance", case.acceptance_notice_no),
        ("supplement", case.supplement_notice_no),
        ("rejection", case.rejection_notice_no),
    ]
    return [kind for kind, number in found if number]


def _notice(case: AnyCase) -> SupplementNotice | None:
    if case.supplement_notice_no is None or case.supplement_requested_at is None:
        return None
    return SupplementNotice(
        notice_no=case.supplement_notice_no,
        notice_text=case.supplement_notice_text or "",
        issued_at=case.supplement_requested_at,
    )


def _rejection(case: AnyCase) -> Rejection | None:
    if case.rejection_notice_no is None or case.rejected_at is None:
        return None
    return Rejection(
        notice_no=case.rejection_notice_no, reason=case.rejection_reason or "", rejected_at=case.rejected_at
    )
