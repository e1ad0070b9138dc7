"""Printable documents: a CJK PDF (fpdf2, font subset embedded) with QR codes (``yiwang_common.qr``).

Several services print: management its 办事指南, business its 决定书, the portal shows licence QR
codes. A PDF needs a CJK TrueType font: without one fpdf2 would print empty boxes (豆腐块), so a
missing font is an error (503), not a fallback. ``scripts/ensure_fonts.sh`` installs Debian's
``fonts-wqy-microhei``, the first of the search list.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from yiwang_common.http.problems import ServiceUnavailable
from yiwang_common.qr import qr_png

if TYPE_CHECKING:
    from fpdf import FPDF

#: Where Debian's CJK font packages put their fonts; the first that exists is used.
FONT_SEARCH_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


class DocumentFontMissing(ServiceUnavailable):
    """No CJK TrueType font on this machine: a PDF without one would print boxes (豆腐块)."""

    code = "document_font_missing"
    title = "缺少中文字体，无法生成 PDF 文书"


def find_font(configured: Path | None, search: Sequence[str] = FONT_SEARCH_PATHS) -> Path:
    """The CJK font to embed: the configured one, else the first of the search list that exists.

    Raises:
        DocumentFontMissing: if there is none.
    """
    if configured is not None:
        if configured.is_file():
            return configured
        raise DocumentFontMissing(f"配置的中文字体文件不存在：{configured}")
    for candidate in search:
        if Path(candidate).is_file():
            return Path(candidate)
    raise DocumentFontMissing(
        "未找到中文 TrueType 字体（请运行 scripts/ensure_fonts.sh 安装 fonts-wqy-microhei）；已查找："
        + "、".join(search)
    )


def cjk_pdf(font: Path, *, title: str, creator: str) -> FPDF:
    """An A4 PDF with the CJK font registered as ``cjk`` (subset embedded on output).

    fpdf2 is imported here, not with the module: it costs about a second of start-up.
    """
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    # A .ttc holds several faces; the first is the regular proportional one in the fonts above.
    pdf.add_font("cjk", fname=str(font), collection_font_number=0)
    pdf.set_font("cjk", size=11)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(title)
    pdf.set_lang("zh-CN")
    pdf.set_creator(creator)
    return pdf


def paragraph(
    pdf: FPDF, text: str, *, size: float = 11, height: float = 7, indent: float = 0, align: str = "L"
) -> None:
    """One paragraph of text, wrapped, then the next line."""
    from fpdf.enums import XPos, YPos

    pdf.set_font("cjk", size=size)
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align=align)


def qr_image(pdf: FPDF, data: str, *, x: float, y: float, size: float) -> None:
    """A QR code of ``data`` (error correction M), ``size`` mm square at (x, y)."""
    pdf.image(io.BytesIO(qr_png(data)), x=x, y=y, w=size, h=size)
