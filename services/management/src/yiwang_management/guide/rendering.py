"""HTML (Jinja2) and PDF (fpdf2, CJK font subset embedded) of one ``Guide``.

Both read the same model, so a guide is never typed twice. The PDF needs a CJK TrueType font:
without one fpdf2 would print empty boxes (豆腐块), so a missing font is an error, not a fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from yiwang_common import documents
from yiwang_common.documents import FONT_SEARCH_PATHS, DocumentFontMissing
from yiwang_management.guide.errors import GuideFontMissing
from yiwang_management.guide.schemas import Guide

_templates = Environment(
    loader=PackageLoader("yiwang_management.guide", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(guide: Guide) -> str:
    """The printable guide page (zh-CN, print CSS inline: the page stands alone)."""
    return _templates.get_template("guide.html").render(guide=guide)


def find_font(configured: Path | None, search: Sequence[str] = FONT_SEARCH_PATHS) -> Path:
    """The CJK font to embed (``yiwang_common.documents.find_font``), as the guide's own 503."""
    try:
        return documents.find_font(configured, search)
    except DocumentFontMissing as exc:
        hint = "" if configured is not None else "（或设置 MANAGEMENT_GUIDE_FONT_PATH）"
        raise GuideFontMissing(f"{exc.detail}{hint}") from exc


class _GuidePdf(FPDF):
    def __init__(self, font: Path, guide: Guide) -> None:
        super().__init__(format="A4")
        self._guide = guide
        # A .ttc holds several faces; the first is the regular proportional one in the fonts above.
        self.add_font("cjk", fname=str(font), collection_font_number=0)
        self.set_font("cjk", size=10)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(f"{guide.name} 办事指南")
        self.set_lang("zh-CN")
        self.set_creator("yiwang 政务服务管理平台")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=8)
        g = self._guide
        self.cell(0, 6, f"{g.item_code} 第 {g.version} 版  第 {self.page_no()} 页", align="C")


def _line(pdf: FPDF, text: str, *, size: float = 10, height: float = 6, indent: float = 0) -> None:
    pdf.set_font("cjk", size=size)
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_pdf(guide: Guide, font: Path) -> bytes:
    """The printable guide: elements, then the materials checklist with every attribute."""
    pdf = _GuidePdf(font, guide)
    pdf.add_page()
    _line(pdf, f"{guide.name}", size=16, height=9)
    _line(pdf, "办事指南", size=12, height=7)
    _line(
        pdf, f"{guide.implementing_org}  ·  第 {guide.version} 版  ·  {guide.published_at:%Y-%m-%d}", size=9
    )
    pdf.ln(3)
    for element in guide.elements:
        _line(pdf, f"【{element.key}】", size=11, height=7)
        for text in element.lines:
            _line(pdf, text, indent=4)
    pdf.ln(2)
    _line(pdf, "申请材料清单", size=13, height=8)
    if not guide.materials:
        _line(pdf, "无需提交申请材料", indent=4)
    for number, m in enumerate(guide.materials, start=1):
        need = "必要" if m.required else "非必要（视情提交）"
        _line(pdf, f"□ {number}. {m.name}（{need}）", size=11, height=7)
        for attribute in m.attributes:
            _line(pdf, attribute, size=9, height=5, indent=6)
    for h in guide.handling_items:
        _line(pdf, f"办理项 {h.name}（{h.code}）", size=11, height=7)
        _line(pdf, "所需材料：" + ("、".join(h.materials) or "无"), size=9, height=5, indent=6)
    return bytes(pdf.output())


@lru_cache(maxsize=256)
def cached_pdf(guide_json: str, font: Path) -> bytes:
    """A published version never changes, so its PDF is rendered once per process."""
    return render_pdf(Guide.model_validate_json(guide_json), font)
