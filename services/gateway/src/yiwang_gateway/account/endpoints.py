"""Routes: ``GET /me`` (sign-in is the identity domain's ``POST /auth/token``)."""

from __future__ import annotations

from fastapi import APIRouter

from yiwang_common.auth import CurrentPrincipal
from yiwang_common.http import Unauthorized, problem_responses
from yiwang_gateway.account.errors import AccountNotFound
from yiwang_gateway.account.schemas import Profile
from yiwang_gateway.account.service import account_service
from yiwang_gateway.dependencies import GUARDS, SessionDep

router = APIRouter(tags=["account"], dependencies=GUARDS)


@router.get(
    "/me",
    summary="我的空间：个人信息 The caller's profile",
    response_model=Profile,
    responses=problem_responses(Unauthorized, AccountNotFound),
)
async def get_me(principal: CurrentPrincipal, session: SessionDep) -> Profile:
    """Return the profile of the account the token names."""
    account = await account_service.get_active(session, account_id=principal.sub)
    return account_service.profile(account, principal)
