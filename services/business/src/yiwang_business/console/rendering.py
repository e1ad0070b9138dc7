"""Templates, security headers and error pages of business's console (待办, 办件, 流程图) (ADR 0017).

The shared part lives in :mod:`yiwang_common.web.console` (management renders the same way); this
module only names business's prefix, templates and wording.
"""

from __future__ import annotations

from pathlib import Path

from yiwang_common.web.console import Console

PREFIX = "/console/handle"

console = Console(
    prefix=PREFIX,
    template_dir=Path(__file__).parent / "templates",
    static_dir=Path(__file__).parent / "static",
    distribution="yiwang-business",
    error_text={
        404: ("页面不存在", "您要找的待办、办件或流程定义不存在。"),
        409: ("状态已变化", "办件或待办的状态不允许此操作，请刷新后重试。"),
    },
)
templates = console.templates
render = console.render
error_page = console.error_page
PageRoute = console.page_route

install_console = console.install
