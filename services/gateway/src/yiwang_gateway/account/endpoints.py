"""Routes: ``POST /auth/token`` and ``GET /me``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from yiwang_common.auth import CurrentPrincipal, TokenIssuer
from yiwang_common.http import Unauthorized, problem_responses
from yiwang_gateway.account.errors import AccountNotFound, InvalidCredentials, LoginThrottled
from yiwang_gateway.account.schemas import PrincipalOut, Profile, TokenRequest, TokenResponse
from yiwang_gateway.account.service import account_service
from yiwang_gateway.account.throttle import LoginThrottle, client_address
from yiwang_gateway.config import Settings
from yiwang_gateway.dependencies import GUARDS, SessionDep

router = APIRouter(tags=["account"], dependencies=GUARDS)


@router.post(
    "/auth/token",
    summary="登录获取凭证 Issue an access token",
    response_model=TokenResponse,
    responses=problem_responses(InvalidCredentials, LoginThrottled),
)
async def issue_token(body: TokenRequest, request: Request, session: SessionDep) -> TokenResponse:
    """Check username and password and return a signed bearer token.

    Failed logins are throttled per account name and per client address: after a few, each
    further attempt waits longer (429 with ``Retry-After``), then the name is locked for a while.
    """
    settings: Settings = request.app.state.settings
    throttle = LoginThrottle(
        settings.login, username=body.username, address=client_address(request, settings.login)
    )
    await throttle.check(session)
    try:
        account = await account_service.authenticate(session, username=body.username, password=body.password)
    except InvalidCredentials:
        await throttle.failed(request.app.state.sessionmaker)
        raise
    await throttle.succeeded(session)
    principal = account_service.principal(account)
    issuer: TokenIssuer = request.app.state.token_issuer
    ttl = settings.auth.token_ttl_seconds
    return TokenResponse(
        access_token=issuer.issue(principal, ttl_seconds=ttl),
        expires_in=ttl,
        principal=PrincipalOut(
            sub=principal.sub,
            name=principal.name,
            kind=principal.kind,
            roles=sorted(principal.roles),
            org_code=principal.org_code,
        ),
    )


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
