"""The one guide document model: JSON, HTML and PDF are all rendered from it (never typed twice)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class GuideElement(BaseModel):
    """指南要素 One element of the guide (GUI-01), as lines of text."""

    key: str = Field(description="要素名称", examples=["承诺办结时限"])
    lines: list[str] = Field(description="要素内容, 每项一行")


class GuideMaterial(BaseModel):
    """申请材料 One line of the materials checklist with every attribute (GUI-02)."""

    code: str = Field(description="材料编码")
    name: str = Field(description="材料名称")
    required: bool = Field(description="材料必要性")
    material_type: str = Field(description="材料类型")
    source: str = Field(description="来源渠道")
    source_notes: str = Field(default="", description="来源渠道说明")
    copies: int = Field(description="纸质材料份数")
    paper_format: str = Field(default="", description="纸质材料规格")
    electronic_required: bool = Field(description="是否需电子材料")
    sample_ref: str = Field(default="", description="示例样表")
    blank_form_ref: str = Field(default="", description="空白表格")
    acceptance_standard: str = Field(default="", description="受理标准")
    instructions: str = Field(default="", description="填报须知")
    legal_basis: str = Field(default="", description="要求提供材料的依据")
    shareable: bool = Field(description="可通过数据共享获取, 免于提交")

    @property
    def attributes(self) -> list[str]:
        """The attributes as 'name：value' lines, empty ones left out (HTML and PDF share them)."""
        pairs = [
            ("材料类型", self.material_type),
            ("来源渠道", "；".join(v for v in (self.source, self.source_notes) if v)),
            ("纸质份数", f"{self.copies} 份" + (f"（{self.paper_format}）" if self.paper_format else "")),
            ("电子材料", "需要" if self.electronic_required else "不需要"),
            ("数据共享", "可由部门共享获取，免于提交" if self.shareable else ""),
            ("示例样表", self.sample_ref),
            ("空白表格", self.blank_form_ref),
            ("受理标准", self.acceptance_standard),
            ("填报须知", self.instructions),
            ("依据", self.legal_basis),
        ]
        return [f"{k}：{v}" for k, v in pairs if v]


class GuideHandlingItem(BaseModel):
    """办理项 A situation with its own materials."""

    code: str
    name: str
    materials: list[str] = Field(description="所需材料名称")


class Guide(BaseModel):
    """办事指南 Generated from the published 实施清单 version and its 目录清单 entry."""

    item_code: str = Field(description="实施编码")
    basic_code: str = Field(description="基本编码")
    version: int = Field(description="事项版本")
    name: str = Field(description="事项名称")
    implementing_org: str = Field(description="实施主体")
    implementing_org_code: str = Field(description="实施主体统一社会信用代码")
    region_code: str = Field(description="行政区划代码")
    region_name: str | None = Field(default=None, description="行政区划")
    published_at: datetime = Field(description="发布时间")
    elements: list[GuideElement] = Field(description="指南要素, 按 GUI-01 顺序, 空要素不列")
    materials: list[GuideMaterial] = Field(description="申请材料清单")
    handling_items: list[GuideHandlingItem] = Field(default_factory=list, description="办理项")
