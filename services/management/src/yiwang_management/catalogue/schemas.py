"""API models of the catalogue: 目录清单 entries and 实施清单 versions with every GB/T 39046 element.

Only what the standard makes mandatory is required (name, codes, type, legal basis, body,
level, region, service object, case type, handling form, limits); real lists leave the rest
empty, and that must load. Codes are the enums of ``yiwang_common.contracts.codes``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from yiwang_common.contracts.codes import (
    BasicCode,
    BodyNature,
    CaseType,
    CreditCode,
    CrossRegionScope,
    ExerciseLevel,
    HandlingForm,
    ItemType,
    Jurisdiction,
    LegalPersonTheme,
    MaterialSource,
    MaterialType,
    NaturalPersonTheme,
    RegionCode,
    ServiceForm,
    ServiceObject,
    SpecialProcedure,
    VisitCount,
    handling_code_problem,
    implementation_code_problem,
)
from yiwang_common.forms import schema_errors
from yiwang_common.text import CLEAN_LINE, CLEAN_MULTILINE, Code, MultilineText, Name, Text, json_text_problem

#: Optional one-line text: may be empty, as real lists leave it.
OptText = Annotated[str, CLEAN_LINE, StringConstraints(max_length=500)]
#: Optional multi-line text.
OptMultiline = Annotated[str, CLEAN_MULTILINE, StringConstraints(max_length=4000)]
ItemCode = Annotated[str, StringConstraints(min_length=20, max_length=36, pattern=r"^[0-9A-Z]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogueEntryCreate(_Strict):
    """目录清单 Catalogue entry: the same name, type, legal basis and basic code at every level."""

    basic_code: BasicCode = Field(description="基本编码", examples=["000109003000"])
    name: Name = Field(description="事项名称", examples=["建筑工程施工许可证核发"])
    item_type: ItemType = Field(description="事项类型代码", examples=["01"])
    legal_basis: list[MultilineText] = Field(min_length=1, max_length=100, description="设定依据")
    parent_basic_code: BasicCode | None = Field(default=None, description="主项基本编码 (本条为子项时)")
    level_scope: list[ExerciseLevel] = Field(
        default_factory=list, description="可实施的行使层级 (目录清单适用层级)"
    )


class CatalogueEntrySchema(CatalogueEntryCreate):
    """目录清单 entry as stored."""

    item_type_name: str
    created_at: datetime


class Body(_Strict):
    """实施主体 / 联办机构: a body with its 统一社会信用代码."""

    name: Name = Field(examples=["元江县住房和城乡建设局"])
    code: CreditCode = Field(description="统一社会信用代码", examples=["11530428015176456L"])


class Fee(_Strict):
    """收费项目 One fee with its rate and basis."""

    name: Name = Field(description="收费项目名称")
    standard: Text = Field(description="收费标准")
    basis: MultilineText = Field(description="收费依据")
    reducible: bool = Field(default=False, description="是否允许减免")


class Material(_Strict):
    """申请材料 One material of the list, with the GB/T 39046 / national-table attributes."""

    code: Code = Field(description="材料编码", examples=["M01"])
    name: Name = Field(description="材料名称")
    material_type: MaterialType = Field(default=MaterialType.ORIGINAL, description="材料类型")
    source: MaterialSource = Field(default=MaterialSource.APPLICANT, description="来源渠道")
    source_notes: OptText = Field(default="", description="来源渠道说明 (出具机构 …)")
    copies: int = Field(default=1, ge=0, le=99, description="纸质材料份数")
    paper_format: OptText = Field(default="", description="纸质材料规格, e.g. A4")
    sample_ref: OptText = Field(default="", description="示例样表")
    blank_form_ref: OptText = Field(default="", description="空白表格")
    electronic_required: bool = Field(default=True, description="是否需电子材料")
    required: bool = Field(default=True, description="材料必要性: 必要 / 非必要")
    acceptance_standard: OptMultiline = Field(default="", description="受理标准")
    instructions: OptMultiline = Field(default="", description="填报须知")
    legal_basis: OptMultiline = Field(default="", description="要求提供材料的依据")
    shareable: bool = Field(default=False, description="可通过数据共享获取, 免于申请人提交")
    deferrable: bool = Field(
        default=False, description="可容缺: a non-key material that may follow a 容缺受理 (ADR 0111)"
    )


class ProcessStep(_Strict):
    """办理流程 One external step."""

    name: Name = Field(description="环节名称", examples=["受理"])
    description: OptMultiline = Field(default="", description="环节说明")
    limit_days: int | None = Field(default=None, ge=0, le=3650, description="环节时限 (工作日)")


class HandlingItem(_Strict):
    """办理项 A situation of the item with its own material set (CAT-04)."""

    code: Code = Field(description="业务办理项编码")
    name: Name = Field(description="办理项名称")
    material_codes: list[Code] = Field(default_factory=list, description="本办理项所需材料编码")


class Faq(_Strict):
    """常见问题."""

    question: Text
    answer: MultilineText


class ImplementationContent(_Strict):
    """实施清单要素 Everything one version of an implementation entry says (附录一 / GB/T 39046 Table 4)."""

    basic_code: BasicCode = Field(description="基本编码 (目录清单)")
    exercise_level: ExerciseLevel = Field(description="行使层级")
    authority_division: OptMultiline = Field(default="", description="权限划分")
    exercise_content: OptMultiline = Field(default="", description="行使内容")
    implementing_org: Body = Field(description="实施主体")
    body_nature: BodyNature = Field(default=BodyNature.STATUTORY, description="实施主体性质")
    commissioning_org: Body | None = Field(default=None, description="委托部门")
    co_handling_orgs: list[Body] = Field(default_factory=list, description="联办机构")
    decision_org: OptText = Field(
        default="", description="上报审批机关: the higher level that decides (上报件, ADR 0111)"
    )
    deferred_acceptance: bool = Field(
        default=False, description="容缺受理: accept with 可容缺 materials owed (ADR 0111)"
    )
    region_code: RegionCode = Field(description="行政区划代码 (GB/T 2260)")
    service_objects: list[ServiceObject] = Field(min_length=1, description="服务对象")
    natural_person_themes: list[NaturalPersonTheme] = Field(
        default_factory=list, description="面向自然人主题"
    )
    legal_person_themes: list[LegalPersonTheme] = Field(default_factory=list, description="面向法人主题")
    case_type: CaseType = Field(default=CaseType.PROMISED, description="办件类型")
    handling_forms: list[HandlingForm] = Field(min_length=1, description="办理形式")
    scope: OptMultiline = Field(default="", description="受理范围")
    conditions: list[MultilineText] = Field(default_factory=list, description="受理条件")
    materials: list[Material] = Field(default_factory=list, max_length=100, description="申请材料")
    intermediary_services: list[Text] = Field(default_factory=list, description="中介服务")
    process: list[ProcessStep] = Field(default_factory=list, description="办理流程")
    statutory_limit_days: int = Field(ge=0, le=3650, description="法定办结时限 (工作日)")
    promised_limit_days: int = Field(ge=0, le=3650, description="承诺办结时限 (工作日)")
    limit_notes: OptText = Field(default="", description="时限说明")
    special_procedures: list[SpecialProcedure] = Field(
        default_factory=list, description="特别程序: 延长审批 (时限可延长) / 其他 (时限可中止)"
    )
    quantity_limit: OptText = Field(default="", description="数量限制")
    result_name: OptText = Field(default="", description="结果名称")
    result_sample_ref: OptText = Field(default="", description="结果样本")
    fee_charged: bool = Field(default=False, description="是否收费")
    fees: list[Fee] = Field(default_factory=list, description="收费标准与依据")
    cross_region_scope: CrossRegionScope | None = Field(default=None, description="通办范围 (空: 定点办理)")
    appointment: bool = Field(default=False, description="预约办理")
    online_payment: bool = Field(default=False, description="网上支付")
    delivery: bool = Field(default=False, description="物流快递")
    place: OptMultiline = Field(default="", description="办理地点")
    hours: OptText = Field(default="", description="办理时间")
    enquiry_phone: OptText = Field(default="", description="咨询电话 / 咨询方式")
    complaint_phone: OptText = Field(default="", description="监督投诉电话 / 方式")
    review_standard: OptMultiline = Field(default="", description="审查标准")
    visits: VisitCount | None = Field(default=None, description="到办事现场次数")
    visit_reason: OptText = Field(default="", description="到现场办理原因说明")
    online_url: AnyHttpUrl | None = Field(default=None, description="网办地址")
    faq: list[Faq] = Field(default_factory=list, description="常见问题")
    handling_items: list[HandlingItem] = Field(default_factory=list, description="办理项")
    planned_effective_date: date | None = Field(default=None, description="计划生效日期")
    planned_cancel_date: date | None = Field(default=None, description="计划取消日期")
    form_schema: dict[str, Any] = Field(default_factory=dict, description="申请表 JSON Schema")
    other_elements: dict[Code, OptMultiline] = Field(
        default_factory=dict, max_length=30, description="其他指南要素 (指南编号, 来源说明 …)"
    )

    @model_validator(mode="before")
    @classmethod
    def _clean_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and (found := json_text_problem(data.get("form_schema", {}))):
            raise ValueError(f"form_schema{found[0]}: {found[1]}")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ImplementationContent:
        problems: list[str] = []
        codes = [m.code for m in self.materials]
        if len(codes) != len(set(codes)):
            problems.append("材料编码重复")
        if self.promised_limit_days > self.statutory_limit_days:
            problems.append("承诺办结时限不得超过法定办结时限")
        if self.fee_charged != bool(self.fees):
            problems.append("是否收费与收费项目不一致 (收费须列出收费标准与依据，不收费则不列)")
        natural = ServiceObject.NATURAL_PERSON in self.service_objects
        if self.natural_person_themes and not natural:
            problems.append("面向自然人主题只适用于服务对象含自然人的事项")
        if self.legal_person_themes and not any(not o.is_natural_person for o in self.service_objects):
            problems.append("面向法人主题只适用于服务对象含法人或其他组织的事项")
        for item in self.handling_items:
            unknown = set(item.material_codes) - set(codes)
            if unknown:
                problems.append(f"办理项 {item.code} 引用了不存在的材料 {'、'.join(sorted(unknown))}")
        if errors := schema_errors(self.form_schema):
            problems.append("form_schema " + "；".join(f"{e['pointer']}: {e['error']}" for e in errors))
        if problems:
            raise ValueError("；".join(problems))
        return self

    def check_codes(self, item_code: str) -> str | None:
        """Say what is wrong with this entry's 实施编码 and 业务办理项编码, or None."""
        problem = implementation_code_problem(
            item_code, basic_code=self.basic_code, org_code=self.implementing_org.code
        )
        if problem:
            return problem
        for item in self.handling_items:
            if problem := handling_code_problem(item.code, implementation_code=item_code):
                return f"{item.code}: {problem}"
        return None

    # --- the dimensions the standard derives rather than stores (分类维度 1, 6, 7) ----------

    @property
    def service_form(self) -> ServiceForm:
        """服务形式: online only, offline only, or both."""
        online = any(f.online for f in self.handling_forms)
        offline = any(not f.online for f in self.handling_forms)
        if online and offline:
            return ServiceForm.INTEGRATED
        return ServiceForm.ONLINE if online else ServiceForm.OFFLINE

    @property
    def jurisdiction(self) -> Jurisdiction:
        """行政管辖: 跨地区通办 when a 通办范围 is set."""
        return Jurisdiction.CROSS_REGION if self.cross_region_scope else Jurisdiction.FIXED_PLACE


class VersionCreate(_Strict):
    """新建版本 A new draft of an implementation entry."""

    item_code: ItemCode = Field(description="实施编码", examples=["11530428015176456L2000109003000"])
    content: ImplementationContent


class VersionTransition(_Strict):
    """A state change with an optional note (退回 / 撤销 reasons)."""

    note: OptMultiline = Field(default="", description="说明 / 原因")


class VersionSchema(BaseModel):
    """实施清单版本 One version as stored."""

    item_code: str
    version: int
    status: str = Field(description="draft / submitted / approved / published / superseded / withdrawn")
    status_name: str
    name: str
    org_code: str
    content: dict[str, Any]
    dimensions: dict[str, Any] = Field(description="七个分类维度")
    created_by: str
    created_at: datetime
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    note: str


class FieldChange(BaseModel):
    """One element that differs between two versions (JSON pointer into ``content``)."""

    path: str = Field(examples=["/promised_limit_days"])
    before: Any = None
    after: Any = None


class VersionDiff(BaseModel):
    """版本比较 The field-level difference of two versions."""

    item_code: str
    from_version: int
    to_version: int
    changes: list[FieldChange]


class ImportError_(BaseModel):
    """One error of an import: where (sheet, row, column) and why."""

    sheet: str = Field(examples=["实施清单"])
    row: int = Field(description="行号 (表头为第 1 行; 0: 整个文件)", examples=[3])
    column: str = Field(description="列名 (空: 整行)", examples=["行政区划代码"])
    reason: str = Field(examples=["行政区划代码的省级代码 99 不存在"])


class ImportJob(BaseModel):
    """导入任务 An import running in the background: its progress, and its outcome once ended."""

    id: str
    filename: str
    file_format: str
    sha256: str
    status: str = Field(
        description="queued (排队中) / running (正在导入) / rejected (有错误，未导入) / imported / "
        "imported_with_errors (强制导入) / failed (导入失败)"
    )
    status_name: str = Field(examples=["正在导入"])
    phase: str = Field(description="validating (校验每一行) / importing (写入) / done")
    phase_name: str = Field(examples=["校验"])
    finished: bool = Field(description="任务已结束 (rejected / imported / imported_with_errors / failed)")
    total_rows: int = Field(description="文件的行数 (校验中为估计值)")
    processed_rows: int = Field(description="当前阶段已处理的行数 (校验: 已校验; 写入: 已写入)")
    valid_rows: int = Field(description="通过校验与流程检查的行数")
    write_rows: int = Field(description="写入阶段要处理的行数 (有效行减去按行哈希跳过的未变化行)")
    error_rows: int = Field(description="有错误的行数")
    error_count: int = Field(description="错误条数")
    created: int
    updated: int
    unchanged: int
    published: int
    forced: bool
    publish: bool
    attempts: int = Field(description="运行次数 (进程中断后恢复时增加)")
    failure: str = Field(description="任务失败或中断的原因")
    errors: list[ImportError_] = Field(description="前 100 条错误; 全部见 …/imports/{id}/errors")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
