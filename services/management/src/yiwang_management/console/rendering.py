"""Templates, security headers and error pages of management's console (conventions of ADR 0017).

The shared part lives in :mod:`yiwang_common.web.console` (business renders the same way); this
module only names management's prefix, templates and wording.
"""

from __future__ import annotations

from pathlib import Path

from yiwang_common.web.console import Console

PREFIX = "/console/manage"

console = Console(
    prefix=PREFIX,
    template_dir=Path(__file__).parent / "templates",
    static_dir=Path(__file__).parent / "static",
    distribution="yiwang-management",
    error_text={
        404: ("页面不存在", "您要找的页面、版本或导入任务不存在。"),
        409: ("状态已变化", "该版本的状态不允许此操作，请刷新后重试。"),
    },
)
templates = console.templates
render = console.render
error_page = console.error_page
PageRoute = console.page_route

install_console = console.install
