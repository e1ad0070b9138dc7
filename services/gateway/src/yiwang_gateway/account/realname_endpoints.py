"""Route: ``POST /realname-verifications`` — a 受理人 raises an account to 实名等级 L3 (ADR 0114)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from yiwang_common.auth import ROLE_ACCEPTOR, Principal, require_role
from yiwang_common.http import Unauthorized, problem_responses
from yiwang_gateway.account import realname
from yiwang_gateway.account.errors import AccountNotFound, RealnameAlreadyVerified
from yiwang_gateway.account.schemas import RealnameVerificationCreate, RealnameVerified
from yiwang_gateway.dependencies import GUARDS, SessionDep

router = APIRouter(tags=["account"], dependencies=GUARDS)

Acceptor = require_role(ROLE_ACCEPTOR)


@router.post(
    "/realname-verifications",
    summary="实名核验（L3） Raise an account to real-name level L3",
    status_code=201,
    response_model=RealnameVerified,
    responses=problem_responses(Unauthorized, AccountNotFound, RealnameAlreadyVerified),
)
async def verify_realname(
    body: RealnameVerificationCreate, request: Request, session: SessionDep, staff: Principal = Acceptor
) -> RealnameVerified:
    """受理人 only: after checking the original document at a window (or a trusted channel), raise
    the account of that document to L3. The reason is kept with the record and in the audit log;
    the account's next token carries ``rnl: L3``."""
    settings = request.app.state.settings
    return await realname.verify_l3(
        session,
        staff,
        body,
        source=request.app.state.runtime.source,
        region_code=staff.region or settings.platform.region_code,
    )
