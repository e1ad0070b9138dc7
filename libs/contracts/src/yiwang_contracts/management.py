"""Events the management platform (政务服务管理平台) publishes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang_contracts.common import (
    Applicant,
    AuditFields,
    DecisionDocument,
    ELicence,
    MaterialRef,
    MaterialRequirement,
    MissingMaterial,
    Organisation,
    StaffPost,
    StepRecord,
)
from yiwang_contracts.envelope import EventData


class ItemPublished(EventData):
    """事项已发布: a version of an item's implementation list entry and guide is in force."""

    subject = "yiwang.management.item.published.v1"

    item_code: str = Field(description="实施编码")
    basic_code: str = Field(description="基本编码")
    name: str = Field(description="事项名称")
    item_type: str = Field(description="事项类型, e.g. 行政许可")
    version: int = Field(ge=1, description="事项版本")
    implementing_org: Organisation = Field(description="实施主体")
    region_code: str = Field(description="行政区划代码")
    service_object: list[str] = Field(default_factory=list, description="服务对象: 自然人 / 企业法人 …")
    scope: str = Field(default="", description="受理范围")
    legal_basis: list[str] = Field(default_factory=list, description="设定依据 / 办理依据")
    conditions: list[str] = Field(default_factory=list, description="受理条件 / 审批条件")
    materials: list[MaterialRequirement] = Field(default_factory=list, description="申请材料")
    statutory_limit_days: int = Field(ge=0, description="法定办结时限 (工作日)")
    promised_limit_days: int = Field(ge=0, description="承诺办结时限 (工作日)")
    case_type: Literal["1", "2", "9"] = Field(default="2", description="办件类型: 1 即办件, 2 承诺件, 9 其他")
    fee: str = Field(default="不收费", description="收费标准")
    form_schema: dict[str, Any] = Field(
        default_factory=dict, description="JSON Schema of the application form"
    )
    guide: dict[str, Any] = Field(default_factory=dict, description="Further guide elements (办事指南)")
    published_at: datetime
    # Added with the versioned catalogue (ADR 0018): the classification the portal filters on.
    item_type_code: str | None = Field(default=None, description="事项类型代码 (GB/T 39046 A.1)")
    exercise_level: str | None = Field(default=None, description="行使层级代码 (GB/T 39046 A.2)")
    exercise_level_name: str | None = Field(default=None, description="行使层级, e.g. 县级")
    region_name: str | None = Field(default=None, description="行政区划名称")
    service_object_codes: list[str] = Field(default_factory=list, description="服务对象代码 (GB/T 39046 A.4)")
    themes: list[str] = Field(default_factory=list, description="服务主题 (自然人 / 法人主题名称)")
    theme_codes: list[str] = Field(default_factory=list, description="服务主题代码")
    handling_forms: list[str] = Field(
        default_factory=list, description="办理形式: 窗口办理 / 电脑端网上办理 …"
    )
    online: bool | None = Field(default=None, description="是否网办")
    fee_charged: bool | None = Field(default=None, description="是否收费")
    cross_region_scope: str | None = Field(default=None, description="通办范围: 全国 / 跨省 / 跨市 / 跨县")
    visits: str | None = Field(default=None, description="到办事现场次数代码: 0 / 1 / 2 / 3 (三次及以上)")


class ItemWithdrawn(EventData):
    """事项已撤销: the version in force was withdrawn; the item takes no new applications."""

    subject = "yiwang.management.item.withdrawn.v1"

    item_code: str = Field(description="实施编码")
    version: int = Field(ge=1, description="撤销的事项版本")
    name: str = Field(description="事项名称")
    reason: str = Field(description="撤销原因")
    withdrawn_at: datetime


class CaseRegistered(EventData):
    """办件已登记: the application became a case with a 办件编号 and awaits acceptance."""

    subject = "yiwang.management.case.registered.v1"

    case_no: str = Field(description="办件编号")
    application_id: uuid.UUID
    item_code: str
    item_name: str
    applicant: Applicant
    form: dict[str, Any] = Field(default_factory=dict)
    materials: list[MaterialRef] = Field(default_factory=list)
    missing_materials: list[MissingMaterial] = Field(description="Pre-check against the item's list")
    registered_at: datetime
    # Added with 六件管理 (ADR 0111): 办件类别 code of yiwang_common.contracts.codes.CaseKind.
    case_kind: str | None = Field(
        default=None, description="办件类别: 1 即办件 2 承诺件 3 联办件 4 上报件 5 补办件 6 退回件"
    )


class CaseSupplementRequested(EventData):
    """已一次性告知: staff asked for every missing material in one notice (补正告知)."""

    subject = "yiwang.management.case.supplement_requested.v1"

    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    notice_no: str = Field(description="补正告知书编号")
    missing_materials: list[MissingMaterial] = Field(min_length=1)
    notice_text: str = Field(description="告知内容")
    handler_name: str
    issued_at: datetime


class CaseAccepted(EventData):
    """已受理: the case is accepted and its promised clock runs (Figure 3-2 step 4)."""

    subject = "yiwang.management.case.accepted.v1"

    case_no: str
    application_id: uuid.UUID
    item_code: str
    item_name: str
    implementing_org: Organisation
    applicant: Applicant
    form: dict[str, Any]
    materials: list[MaterialRef]
    acceptance_notice_no: str = Field(description="受理通知书编号")
    handler_name: str
    accepted_at: datetime
    clock_start: date = Field(description="时限起算日: acceptance, or the day the last supplement arrived")
    promised_limit_days: int
    due_date: date = Field(description="承诺办结日期 (工作日)")
    statutory_due_date: date = Field(description="法定办结日期 (工作日)")
    step: StepRecord = Field(description="The 受理 step")
    # Added with 六件管理 (ADR 0111): 办件类别 code of yiwang_common.contracts.codes.CaseKind.
    case_kind: str | None = Field(
        default=None, description="办件类别: 1 即办件 2 承诺件 3 联办件 4 上报件 5 补办件 6 退回件"
    )
    co_handling_orgs: list[str] | None = Field(default=None, description="联办机构 of a 联办件")
    decision_org: str | None = Field(default=None, description="上报审批机关: who decides a 上报件")


class CaseAcceptedWithMaterialsOwed(EventData):
    """已容缺受理: accepted with non-key materials owed (ADR 0111). The case goes to the department,
    and its clock starts, only when they arrive (``case.accepted`` then follows)."""

    subject = "yiwang.management.case.accepted_with_materials_owed.v1"

    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    acceptance_notice_no: str = Field(description="受理通知书编号")
    pending_materials: list[MissingMaterial] = Field(min_length=1, description="容缺材料 still owed")
    supply_by: date = Field(description="容缺材料补齐期限")
    handler_name: str
    accepted_at: datetime
    case_kind: str | None = Field(default=None, description="办件类别 (5 补办件, or 3 联办件 / 4 上报件)")


class CaseRejected(EventData):
    """不予受理: staff refused to accept the application, with the reason."""

    subject = "yiwang.management.case.rejected.v1"

    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    notice_no: str = Field(description="不予受理通知书编号")
    reason: str
    handler_name: str
    rejected_at: datetime
    step: StepRecord
    # Added with 六件管理 (ADR 0111): 办件类别 code of yiwang_common.contracts.codes.CaseKind.
    case_kind: str | None = Field(
        default=None, description="办件类别: 1 即办件 2 承诺件 3 联办件 4 上报件 5 补办件 6 退回件"
    )


class CaseCompleted(EventData):
    """已办结: the department decided and the result is back (Figure 3-2 steps 6-8)."""

    subject = "yiwang.management.case.completed.v1"

    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    item_code: str
    outcome: Literal["approved", "refused"] = Field(description="办理结果: 准予 / 不予")
    decision: DecisionDocument
    licence: ELicence | None = None
    completed_at: datetime
    due_date: date
    on_time: bool = Field(description="是否按时办结")
    working_days_used: int = Field(ge=0)
    steps: list[StepRecord] = Field(description="Every recorded step of the case, in order")


class SupervisionWarningItem(BaseModel):
    """One warning of a batch: a case's own limit (no ``step_key``) or one of its steps."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    case_no: str
    step_key: str | None = Field(default=None, description="环节编码; absent for the case's own limit")
    step_name: str | None = Field(default=None, description="环节名称")
    item_code: str
    due_date: date = Field(description="到期日")


class SupervisionWarningsRaised(EventData):
    """监察预警: cases or steps of one department nearing (预警, yellow) or past (超时, red) their limit.

    One event per department, level and sweep tick, up to 1,000 warnings each (a large department
    gets several): a sweep raises tens of thousands at once, and the department is whom they concern.
    Each warning is raised once (unique per case, step, level and due date: a moved due date is
    warned again), so a batch never repeats one.
    """

    subject = "yiwang.management.supervision.warnings_raised.v1"

    tick: int = Field(description="巡检周期 of the sweep that raised them")
    level: Literal["yellow", "red"] = Field(description="监察预警类型: yellow 预警 / red 超时")
    org_code: str = Field(description="责任部门 统一社会信用代码")
    raised_at: datetime
    warnings: list[SupervisionWarningItem] = Field(min_length=1, max_length=1000)


class CaseUrged(EventData):
    """催办 / 督办: a supervisor chased the handling department about a case."""

    subject = "yiwang.management.case.urged.v1"

    case_no: str
    kind: Literal["urge", "supervise"] = Field(description="urge 催办 / supervise 督办")
    content: str = Field(description="督办内容")
    org_code: str = Field(description="被督办机构")
    issued_by: str
    issued_at: datetime


class CaseDeemedApproved(EventData):
    """承诺超时默认: the promised limit passed on an item that deems approval, so the case is approved.

    The handling system closes its task on this event; management completes the case and also
    publishes ``case.completed`` as for any other decision.
    """

    subject = "yiwang.management.case.deemed_approved.v1"

    case_no: str
    application_id: uuid.UUID
    item_code: str
    due_date: date = Field(description="承诺办结日期 that passed")
    decision: DecisionDocument
    deemed_at: datetime


class AuditRecorded(AuditFields, EventData):
    """审计事件: something the audit log (data-sharing) must keep — a sign-in, a failed one, a
    permission change, a read of personal data (ADR 0105)."""

    subject = "yiwang.management.audit.recorded.v1"


class StaffAssigned(EventData):
    """工作人员岗位已变更: an administrator set a staff member's posts; the gateway gives the
    staff account these roles, unit and region, so the next token carries them."""

    subject = "yiwang.management.staff.assigned.v1"

    staff_id: uuid.UUID = Field(description="工作人员 id in management")
    username: str = Field(description="The gateway staff account's user name (登录名)")
    name: str = Field(description="姓名")
    org_code: str = Field(description="统一社会信用代码 of the staff member's department")
    org_name: str = Field(description="部门名称")
    region_code: str = Field(description="行政区划代码 (GB/T 2260) of the department")
    roles: list[str] = Field(description="Union of the posts' roles, sorted; empty when no post is held")
    posts: list[StaffPost] = Field(default_factory=list, description="岗位 / 窗口 held")
    active: bool = Field(default=True, description="False when the staff member was deactivated")
    version: int = Field(
        ge=1, description="Grows with each change; an older version never overwrites a newer"
    )
    changed_at: datetime
    changed_by: str = Field(description="Account id of the administrator who made the change")


class JointPartDispatched(EventData):
    """联办分派: one department's part of a joint case (联办件 / 并联审批) is handed to the system that handles it.

    Management publishes one per department at the same moment; the built-in workflow (business)
    takes the parts whose ``handler`` is ``builtin``. A registered external system receives the
    same payload from ``GET /api/v1/plugin/dispatches`` (ADR 0112): it has no bus credentials.
    """

    subject = "yiwang.management.joint_part.dispatched.v1"

    joint_no: str = Field(description="联办件办件编号 (the combined case the applicant sees)")
    part_no: str = Field(description="分件编号: the part's own case number in the handling system")
    application_id: uuid.UUID = Field(description="The part's application id (stable per part)")
    item_code: str = Field(description="The department's 实施编码 for its part")
    item_name: str
    department: Organisation = Field(description="办理部门 with its 统一社会信用代码")
    handler: Literal["builtin", "external"] = Field(description="内置流程 (business) or 部门自建系统")
    system_id: str | None = Field(default=None, description="The external system's id when handler=external")
    applicant: Applicant
    form: dict[str, Any]
    materials: list[MaterialRef] = Field(
        description="收件一次: the materials the window collected, shared by every part"
    )
    accepted_at: datetime
    limit_days: int = Field(ge=1, description="The part's own 承诺时限 (工作日)")
    due_date: date = Field(description="The part's due date (工作日)")


class JointPartSupplemented(EventData):
    """联办分件已补正: the applicant (online) or the window handed in what a built-in part's
    department asked for in its 退回补正 (ADR 0127).

    business takes it as the applicant's correction of the part (its task goes on, its clock runs
    again, ``case.clock_resumed``); a part whose clock no longer waits on the applicant is left alone.
    An external system's part is dispatched to it again instead (``reason: supplemented``).
    """

    subject = "yiwang.management.joint_part.supplemented.v1"

    joint_no: str = Field(description="联办件办件编号")
    part_no: str = Field(description="分件编号: the part's case number in business")
    application_id: uuid.UUID = Field(description="The part's application id (as dispatched)")
    materials: list[MaterialRef] = Field(
        description="补正材料: replace the part's materials with the same code, others are added"
    )
    form: dict[str, Any] = Field(default_factory=dict, description="Form fields corrected (replace)")
    note: str = Field(description="补正说明")
    channel: Literal["online", "window"] = Field(description="网上 by the applicant, or at the window")
    by_id: str = Field(description="Account id of who handed it in (the applicant, an agent or window staff)")
    by_name: str
    supplied_at: datetime


class JointPartOutcome(BaseModel):
    """One department's result inside a joint case."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    part_no: str
    item_code: str
    item_name: str
    department: Organisation
    outcome: Literal["approved", "refused"]
    reason: str | None = Field(default=None, description="不予许可的理由 when refused")
    decision: DecisionDocument | None = None
    licence: ELicence | None = None


class JointCaseCompleted(EventData):
    """联办办结: every department has decided; one combined result (and one combined notice if any refused)."""

    subject = "yiwang.management.joint_case.completed.v1"

    joint_no: str
    applicant_id: str
    outcome: Literal["approved", "refused"] = Field(description="approved only when every part is approved")
    parts: list[JointPartOutcome]
    notice_text: str | None = Field(
        default=None, description="联办不予许可告知: one combined notice naming every refused part and why"
    )
    completed_at: datetime
    application_id: uuid.UUID | None = Field(
        default=None, description="The joint case's application id (as in JointCaseOpened)"
    )
    decision: DecisionDocument | None = Field(
        default=None, description="联办结果告知书: the one combined result, each department's line"
    )


#: 联办分件状态 as the applicant and management follow it (the plug-in contract's PartStatus).
JointPartStatus = Literal["dispatched", "in_progress", "awaiting_supplement", "approved", "refused"]


class JointPartSummary(BaseModel):
    """One department's part as the applicant's one combined case lists it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    part_no: str
    item_code: str
    item_name: str
    department: Organisation
    limit_days: int = Field(ge=1, description="The part's own 承诺时限 (工作日)")
    due_date: date


class JointCaseOpened(EventData):
    """联办受理: the window collected the materials once and dispatched a part to every department.

    The applicant's portal shows the joint case as one case (its 办件编号) whose timeline lists each
    department's part; ``joint_case.part_changed`` moves a part, ``joint_case.completed`` ends it.
    """

    subject = "yiwang.management.joint_case.opened.v1"

    joint_no: str = Field(description="联办件办件编号")
    application_id: uuid.UUID = Field(description="The joint case's application id (stable)")
    theme_name: str = Field(description="联办主题 (一件事)")
    applicant: Applicant
    window: Organisation = Field(description="The unit whose window opened the case (牵头)")
    form: dict[str, Any]
    materials: list[MaterialRef]
    accepted_at: datetime
    due_date: date = Field(description="The joint case's due date: the longest part's")
    parts: list[JointPartSummary]


class JointPartChanged(EventData):
    """联办分件状态变化: one department's part moved (taken over, 补正 asked or handed in, decided),
    or its 办结期限 moved with its status unchanged (its clock stood still: 挂起, 特殊程序, 补正).
    """

    subject = "yiwang.management.joint_case.part_changed.v1"

    joint_no: str
    application_id: uuid.UUID = Field(description="The joint case's application id")
    part_no: str
    item_name: str
    department: Organisation
    status: JointPartStatus
    changed_at: datetime
    note: str | None = Field(
        default=None, description="补正 reason when awaiting_supplement, 不予许可理由 when refused"
    )
    due_date: date | None = Field(
        default=None,
        description=(
            "分件办结期限 as it stands after this change: its limit plus every working day its clock stood "
            "still. Absent from producers older than this field."
        ),
    )


class PaymentFeeLine(BaseModel):
    """One line of a payment order, as the item's fee schedule said when the order was made."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(description="收费项目名称")
    amount_fen: int = Field(gt=0, description="金额（分）")
    basis: str = Field(description="收费依据")


class PaymentOrderCreated(EventData):
    """缴费订单已生成: a case's order was made from the item's fee schedule (ADR 0113, 0117)."""

    subject = "yiwang.management.payment_order.created.v1"

    order_no: str = Field(description="缴费订单号 ZF<办件编号>")
    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    item_code: str
    org_code: str = Field(description="收款单位 统一社会信用代码")
    timing: Literal["before_acceptance", "before_delivery"] = Field(
        description="before_acceptance 受理前缴费 / before_delivery 送达前缴费"
    )
    amount_fen: int = Field(gt=0, description="应缴金额（分）")
    lines: list[PaymentFeeLine] = Field(min_length=1)
    provider: str = Field(description="支付渠道")
    created_at: datetime


class PaymentOrderPaid(EventData):
    """缴费成功: the provider's payment is recorded and the 电子票据 issued, once (ADR 0113, 0117)."""

    subject = "yiwang.management.payment_order.paid.v1"

    order_no: str
    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    amount_fen: int = Field(gt=0, description="实缴金额（分）")
    provider: str = Field(description="支付渠道")
    provider_txn_id: str | None = Field(default=None, description="渠道交易号")
    receipt_no: str = Field(description="电子票据号")
    paid_at: datetime
    recorded_via: Literal["notification", "query"] = Field(
        description="notification 支付结果通知 / query 主动查询"
    )


class DeliveryArranged(EventData):
    """送达方式已选择: window pick-up, or post to a recipient (name and phone masked; the address
    is not in the event, only its postcode)."""

    subject = "yiwang.management.delivery.arranged.v1"

    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    method: Literal["window", "post"] = Field(description="window 窗口领取 / post 邮寄送达")
    recipient_name: str | None = Field(default=None, description="收件人（脱敏，只留姓）")
    recipient_phone: str | None = Field(default=None, description="联系电话（脱敏 3+4）")
    postcode: str | None = Field(default=None, description="邮政编码")
    arranged_at: datetime
    arranged_by: str


class DeliveryDispatched(EventData):
    """已寄出: the result is posted with the courier's tracking number (证照寄送)."""

    subject = "yiwang.management.delivery.dispatched.v1"

    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    courier: str = Field(description="承运方代码")
    courier_name: str = Field(description="承运方")
    tracking_no: str = Field(description="运单号")
    dispatched_at: datetime
    due_date: date | None = Field(default=None, description="送达期限（作出决定之日起 5 个工作日）")


class DeliveryTrackingUpdated(EventData):
    """物流轨迹: a courier scan of a posted result (运输中 / 派送中) before it is signed for."""

    subject = "yiwang.management.delivery.tracking_updated.v1"

    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    kind: Literal["in_transit", "out_for_delivery"] = Field(
        description="in_transit 运输中 / out_for_delivery 派送中"
    )
    description: str
    tracking_no: str | None = Field(default=None, description="运单号")
    at: datetime


class DeliveryCompleted(EventData):
    """已送达 / 已领取: the result is signed for or collected at the window; the 送达 clock stops."""

    subject = "yiwang.management.delivery.delivered.v1"

    case_no: str
    application_id: uuid.UUID
    applicant_id: str
    method: Literal["window", "post"]
    kind: Literal["delivered", "picked_up"] = Field(description="delivered 已签收 / picked_up 窗口已领取")
    tracking_no: str | None = Field(default=None, description="运单号 (post)")
    delivered_at: datetime
    due_date: date | None = Field(default=None, description="送达期限")
    on_time: bool = Field(description="是否在送达期限内")
