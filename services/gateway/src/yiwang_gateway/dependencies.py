"""FastAPI dependencies shared by the gateway's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_APPLICANT, Principal, require_role
from yiwang_common.db import get_session, get_snapshot_session
from yiwang_common.http import UnprocessableContent

#: The request's unit of work; it commits after the endpoint returns, before the response is sent.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
# A view of a case read in several queries (status, promised date, timeline): one snapshot.
SnapshotSessionDep = Annotated[AsyncSession, Depends(get_snapshot_session, scope="function")]

#: 申请人 Applicant principal (natural or legal person).
ApplicantPrincipal = Annotated[Principal, require_role(ROLE_APPLICANT)]


class UnstorableInput(UnprocessableContent):
    """Input PostgreSQL cannot store (NUL characters); refused up front instead of failing as a 500."""

    code = "unstorable_input"
    title = "请求包含无法处理的字符"


async def reject_unstorable_input(request: Request) -> None:
    """Refuse NUL in the path, the query or a JSON body: text and jsonb columns cannot hold it."""
    raw = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
    if b"%00" in raw or b"\x00" in raw:
        raise UnstorableInput("路径或查询参数包含 NUL 字符")
    if "json" in request.headers.get("content-type", "").lower():
        # The body is already read and cached by FastAPI; this only scans the bytes.
        body = await request.body()
        if b"\\u0000" in body or b"\x00" in body:
            raise UnstorableInput("请求体包含 NUL 字符")


#: Router-level guard every gateway router carries.
GUARDS = [Depends(reject_unstorable_input)]
