"""Problems of the search domain."""

from __future__ import annotations

from yiwang_common.http.problems import ServiceUnavailable, UnprocessableContent


class BadQuery(UnprocessableContent):
    """A query the portal refuses before searching (control characters)."""

    code = "bad_search_query"
    title = "检索词无效"


class SearchNotReady(ServiceUnavailable):
    """The index is still being built at start-up."""

    code = "search_not_ready"
    title = "检索服务正在启动"
