"""Problems of application drafts."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, NotFound


class DraftNotFound(NotFound):
    """No draft with that id belongs to the caller (another account's draft is not found either)."""

    code = "draft_not_found"
    title = "申请草稿不存在"


class DraftAlreadySubmitted(Conflict):
    """The draft was submitted already: it is an application now and cannot change."""

    code = "draft_already_submitted"
    title = "该草稿已提交，不能再修改"
