"""Value objects shared by several contracts. Names follow GB/T 39046 where it has them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Value(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Applicant(_Value):
    """申请人: who applies."""

    account_id: str = Field(description="Gateway account id (token ``sub``)")
    name: str = Field(description="申请人名称: 姓名 or 单位名称")
    kind: Literal["natural_person", "legal_person"] = Field(description="申请人类型: 自然人 / 法人")
    # 证件类型 code: 111 居民身份证, 001 统一社会信用代码 (GB/T 39046 A.x / 持证主体代码类型).
    id_type: str = Field(description="申请人证件类型代码", examples=["111"])
    id_number: str = Field(description="申请人证件号码", examples=["530428199001011237"])
    phone: str | None = Field(default=None, description="联系电话")


class Agent(_Value):
    """经办人: the natural person who acted for a legal-person applicant, under an authorisation.

    The id number travels masked (first 6, last 4): readers need to know who acted, and the
    portal's account id leads to the full record where the law requires it.
    """

    account_id: str = Field(description="Gateway account id of the agent (token ``sub``)")
    name: str = Field(description="经办人姓名")
    id_number_masked: str = Field(description="经办人公民身份号码 (masked)", examples=["530428********1232"])
    authorisation_id: str | None = Field(
        default=None, description="经办人授权 id; None when the 法定代表人 acted in person"
    )
    role: Literal["agent", "legal_representative"] = Field(default="agent", description="经办人 / 法定代表人")


class MaterialRef(_Value):
    """A material (申请材料) handed in for one entry of the item's material list."""

    material_code: str = Field(description="材料编码 in the item's list", examples=["M01"])
    name: str = Field(description="材料名称")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Content address in data-sharing")
    size: int = Field(ge=1)
    media_type: str = Field(examples=["application/pdf"])
    filename: str | None = None
    licence_identifier: str | None = Field(
        default=None,
        description=(
            "电子证照标识 when the material is a licence held in the e-licence library (共享协同, "
            "instead of a scan); sha256 is then that of its signed document"
        ),
    )


class MaterialRequirement(_Value):
    """One entry of an item's material list (申请材料目录)."""

    code: str = Field(examples=["M01"])
    name: str = Field(examples=["建筑工程施工许可证申请表"])
    required: bool = True
    media_types: list[str] = Field(default_factory=lambda: ["application/pdf", "image/jpeg", "image/png"])
    max_bytes: int = 10 * 1024 * 1024
    copies: int = Field(default=1, description="份数")
    form: Literal["original", "copy", "electronic"] = Field(
        default="electronic", description="材料形式: 原件/复印件/电子"
    )
    source: str | None = Field(default=None, description="来源渠道, e.g. 申请人自备 / 政府部门核发")
    notes: str | None = Field(default=None, description="填报须知")
    # Added with the versioned catalogue (ADR 0018); absent in events of the item-row era.
    material_type: str | None = Field(default=None, description="材料类型代码 (原件/复印件/…)")
    source_notes: str | None = Field(default=None, description="来源渠道说明, e.g. the issuing department")
    paper_format: str | None = Field(default=None, description="纸质材料规格")
    sample_ref: str | None = Field(default=None, description="示例样表 (reference)")
    blank_form_ref: str | None = Field(default=None, description="空白表格 (reference)")
    electronic_required: bool | None = Field(default=None, description="是否需电子材料")
    acceptance_standard: str | None = Field(default=None, description="受理标准")
    legal_basis: str | None = Field(default=None, description="要求提供材料的依据")
    shareable: bool | None = Field(
        default=None,
        description="可通过数据共享获取 (免提交): data-sharing can supply it instead of the applicant",
    )
    licence_type_code: str | None = Field(
        default=None,
        description="证照类型代码 of the e-licence that satisfies this material (absent: matched by name)",
    )
    # Added with 容缺受理 (ADR 0111): a non-key material the case may be accepted without.
    deferrable: bool | None = Field(
        default=None,
        description="可容缺: a non-key material that may be supplied by a date after 容缺受理",
    )


class MissingMaterial(_Value):
    """One line of a one-time notice (一次性告知): what is missing and why."""

    code: str
    name: str
    reason: str = Field(default="未提交", description="补正原因")


class Organisation(_Value):
    """An implementing or handling body (实施主体 / 处理单位)."""

    name: str = Field(examples=["元江县住房和城乡建设局"])
    code: str = Field(description="统一社会信用代码", examples=["11530428015176456L"])


class StepRecord(_Value):
    """A process step (办理环节, GB/T 39046 Table 7 / 国家 up_pro_process)."""

    step_key: str = Field(description="Stable key of the step in the workflow", examples=["review"])
    step_name: str = Field(description="环节名称", examples=["审查"])
    action: Literal["pass", "return", "other"] = Field(description="业务动作: 通过 / 退回 / 其他")
    handler_id: str = Field(description="环节处理人 account id")
    handler_name: str = Field(description="环节处理人")
    opinion: str = Field(default="", description="环节处理意见")
    started_at: datetime = Field(description="环节开始时间")
    ended_at: datetime = Field(description="环节结束时间")
    org: Organisation = Field(description="处理单位")
    status: Literal["1", "2"] = Field(default="2", description="环节办理状态代码: 1 待办, 2 已办")


class DecisionDocument(_Value):
    """决定书: the written decision."""

    document_no: str = Field(description="文书编号", examples=["元住建施许〔2026〕第000001号"])
    title: str = Field(examples=["准予行政许可决定书"])
    body: str
    decided_at: datetime
    decider_name: str
    org: Organisation


class ELicence(_Value):
    """电子证照 record (GB/T 36902/36903 metadata, GB/T 36904 identifier)."""

    identifier: str = Field(
        description="电子证照标识 1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>",
        examples=["1.2.156.3005.2.11100000000013338W032.11530428015176456L.20261123000001.001.Z"],
    )
    type_code: str = Field(description="证照类型代码 (21 chars)")
    type_name: str = Field(description="证照类型名称", examples=["建筑工程施工许可证"])
    licence_no: str = Field(description="证照编号")
    version: str = Field(default="001", description="证照版本号")
    holder_name: str = Field(description="持证主体")
    holder_code: str = Field(description="持证主体代码")
    holder_code_type: str = Field(description="持证主体代码类型代码, e.g. 111 身份证 / 001 统一社会信用代码")
    issuer: Organisation = Field(description="证照颁发机构")
    issued_on: date = Field(description="证照颁发日期")
    valid_from: date
    valid_until: date | None = None
    jurisdiction_code: str = Field(description="证照所属管辖属地编码 (行政区划代码)")
    trust_level: Literal["A", "B", "C", "D"] = Field(default="A", description="信息分级")
    case_no: str = Field(description="签发证照对应办件编号")
    item_code: str = Field(description="关联事项编码")
    data: dict[str, str] = Field(default_factory=dict, description="扩展业务信息 (照面信息)")


class StaffPost(_Value):
    """A post (岗位) or window (窗口) a staff member holds, with the roles it grants."""

    post_id: str = Field(description="岗位 id in management")
    code: str = Field(description="岗位编码, unique in its department", examples=["SL01"])
    name: str = Field(description="岗位名称", examples=["综合受理窗口"])
    kind: Literal["window", "post"] = Field(description="window 窗口 / post 岗位")
    roles: list[str] = Field(description="Roles the post grants (收件人 receiver, 受理人 acceptor …)")


class AuditFields(BaseModel):
    """审计记录 What every audit event carries: who, what, when, why (ADR 0105).

    Each producer has its own contract (``yiwang.<service>.audit.recorded.v1``) with these
    fields, because a subject names its producer; data-sharing keeps them, append-only.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: str = Field(
        description="sign_in 登录 / sign_in_failed 登录失败 / permission_changed 权限变更 / "
        "personal_data_read 个人信息查阅",
        pattern=r"^[a-z][a-z_]{1,63}$",
        examples=["personal_data_read"],
    )
    outcome: Literal["success", "failure", "denied"] = Field(default="success", description="结果")
    actor_id: str | None = Field(default=None, description="Who: the account id (token sub); none if unknown")
    actor_name: str = Field(default="", description="Who: display name or the name typed at sign-in")
    actor_kind: str | None = Field(
        default=None, description="natural_person / legal_person / staff / service"
    )
    actor_org_code: str | None = Field(default=None, description="统一社会信用代码 of the actor's unit")
    actor_roles: list[str] = Field(default_factory=list, description="The actor's roles at the time")
    region_code: str = Field(
        description="行政区划代码 the record belongs to (the actor's unit, else the platform)",
        examples=["530428"],
    )
    target_type: str = Field(description="What: case / staff_member / account / person …", examples=["case"])
    target_id: str = Field(description="What: its key (办件编号, staff id …)")
    reason: str | None = Field(default=None, description="Why: the reason given (查阅事由)")
    detail: dict[str, str | int | bool | None | list[str]] = Field(
        default_factory=dict, description="Further facts, never personal data in clear"
    )
    occurred_at: datetime = Field(description="When")
