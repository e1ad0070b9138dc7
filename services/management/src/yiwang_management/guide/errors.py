"""Problems the guides report."""

from __future__ import annotations

from yiwang_common.http import NotFound
from yiwang_common.http.problems import ServiceUnavailable


class GuideNotFound(NotFound):
    """No published version of that item, so no guide."""

    code = "guide_not_found"
    title = "办事指南不存在"


class GuideFontMissing(ServiceUnavailable):
    """No CJK TrueType font on this machine: a PDF without one would print boxes (豆腐块)."""

    code = "guide_font_missing"
    title = "缺少中文字体，无法生成 PDF 办事指南"
