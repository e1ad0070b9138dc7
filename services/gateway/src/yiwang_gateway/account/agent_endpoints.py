"""Routes: acting for a legal person (``POST /auth/acting-for``) and its agents (``/me/agents``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from yiwang_common.auth import CurrentPrincipal, TokenIssuer
from yiwang_common.http import Unauthorized, problem_responses
from yiwang_gateway.account.agents import agent_service
from yiwang_gateway.account.errors import (
    AccountNotFound,
    AgentAuthorisationExpired,
    AgentNotRegistered,
    AuthorisationDatesInvalid,
    AuthorisationNotFound,
    InvalidCreditCode,
    InvalidIdNumber,
    NotAuthorisedAgent,
    NotLegalRepresentative,
)
from yiwang_gateway.account.schemas import ActingForRequest, ActingToken, AgentGrant, AgentOut, Company
from yiwang_gateway.config import Settings
from yiwang_gateway.dependencies import GUARDS, SessionDep

router = APIRouter(tags=["account"], dependencies=GUARDS)


@router.post(
    "/auth/acting-for",
    summary="以单位身份办事 Get a token to act for a legal person",
    response_model=ActingToken,
    responses=problem_responses(
        Unauthorized, InvalidCreditCode, NotAuthorisedAgent, AgentAuthorisationExpired, AccountNotFound
    ),
)
async def act_for(
    body: ActingForRequest, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> ActingToken:
    """For an authorised 经办人 (or the 法定代表人): a token whose ``act_for`` and ``agent_scopes``
    claims name the unit and the scope of authority; it never outlives the authorisation."""
    settings: Settings = request.app.state.settings
    issuer: TokenIssuer = request.app.state.token_issuer
    return await agent_service.acting_token(
        session,
        principal=principal,
        credit_code=body.credit_code,
        issuer=issuer,
        max_ttl=settings.auth.token_ttl_seconds,
    )


@router.get(
    "/me/companies",
    summary="我可代办的单位 Legal persons I may act for",
    response_model=list[Company],
    responses=problem_responses(Unauthorized),
)
async def my_companies(principal: CurrentPrincipal, session: SessionDep) -> list[Company]:
    """The units whose 法定代表人 the caller is, and those with an authorisation in force today."""
    return await agent_service.companies(session, principal=principal)


_MANAGE = (
    Unauthorized,
    NotLegalRepresentative,
    NotAuthorisedAgent,
    AgentAuthorisationExpired,
    AccountNotFound,
)


@router.get(
    "/me/agents",
    summary="我的经办人 The legal person's agents",
    response_model=list[AgentOut],
    responses=problem_responses(*_MANAGE),
)
async def list_agents(principal: CurrentPrincipal, session: SessionDep) -> list[AgentOut]:
    """Every authorisation the legal person granted (active, pending, expired, revoked)."""
    return await agent_service.list(session, principal=principal)


@router.post(
    "/me/agents",
    summary="授权经办人 Authorise an agent",
    status_code=201,
    response_model=AgentOut,
    responses=problem_responses(*_MANAGE, InvalidIdNumber, AgentNotRegistered, AuthorisationDatesInvalid),
)
async def grant_agent(body: AgentGrant, principal: CurrentPrincipal, session: SessionDep) -> AgentOut:
    """The legal person (or its 法定代表人 acting for it) authorises a registered natural person."""
    return await agent_service.grant(session, principal=principal, body=body)


@router.delete(
    "/me/agents/{authorisation_id}",
    summary="撤销经办人授权 Revoke an agent",
    status_code=204,
    responses=problem_responses(*_MANAGE, AuthorisationNotFound),
)
async def revoke_agent(
    authorisation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    """Revoke at once: the agent's next act is refused, whatever their token says."""
    await agent_service.revoke(session, principal=principal, authorisation_id=authorisation_id)
    return Response(status_code=204)
