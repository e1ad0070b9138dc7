"""Routes: ``POST /registrations/natural-persons``, ``/registrations/legal-persons`` and the pre-fill lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from yiwang_common.http import problem_responses
from yiwang_gateway.account.errors import (
    IdentityRegistered,
    InvalidCreditCode,
    InvalidIdNumber,
    LegalPersonNotActive,
    LegalPersonUnknown,
    RegistryMismatch,
    UsernameTaken,
)
from yiwang_gateway.account.registration import registration_service
from yiwang_gateway.account.registry import RegistryClient, registry_client
from yiwang_gateway.account.schemas import (
    CreditCodeLookup,
    LegalPersonPrefill,
    LegalPersonSignUp,
    NaturalPersonSignUp,
    Registered,
)
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.federation.endpoints import accounts_live_here
from yiwang_gateway.federation.errors import RegisterAtProvince
from yiwang_gateway.material.errors import UpstreamTimeout, UpstreamUnavailable

router = APIRouter(prefix="/registrations", tags=["account"], dependencies=GUARDS)

Registry = Annotated[RegistryClient, Depends(registry_client)]
_UPSTREAM = (UpstreamUnavailable, UpstreamTimeout)


@router.post(
    "/natural-persons",
    summary="自然人注册 Sign up a natural person",
    status_code=201,
    response_model=Registered,
    responses=problem_responses(
        InvalidIdNumber, RegistryMismatch, UsernameTaken, IdentityRegistered, RegisterAtProvince, *_UPSTREAM
    ),
    dependencies=[Depends(accounts_live_here)],
)
async def sign_up_natural_person(
    body: NaturalPersonSignUp, session: SessionDep, registry: Registry
) -> Registered:
    """Check the number, verify name and number against the 人口库, create the account at 实名等级 L2."""
    return await registration_service.natural_person(session, body=body, registry=registry)


@router.post(
    "/legal-persons",
    summary="法人注册 Sign up a legal person",
    status_code=201,
    response_model=Registered,
    responses=problem_responses(
        InvalidCreditCode,
        InvalidIdNumber,
        RegistryMismatch,
        LegalPersonNotActive,
        UsernameTaken,
        IdentityRegistered,
        RegisterAtProvince,
        *_UPSTREAM,
    ),
    dependencies=[Depends(accounts_live_here)],
)
async def sign_up_legal_person(
    body: LegalPersonSignUp, session: SessionDep, registry: Registry
) -> Registered:
    """Check the codes, verify the unit and its 法定代表人 against the 法人库, create the account at L2."""
    return await registration_service.legal_person(session, body=body, registry=registry)


@router.post(
    "/legal-persons/prefill",
    summary="法人注册预填 Pre-fill a legal person's sign-up",
    response_model=LegalPersonPrefill,
    responses=problem_responses(InvalidCreditCode, LegalPersonUnknown, *_UPSTREAM),
)
async def prefill_legal_person(body: CreditCodeLookup, registry: Registry) -> LegalPersonPrefill:
    """The unit's registered name, address and (masked) representative, by its exact code."""
    found = await registration_service.legal_person_prefill(credit_code=body.credit_code, registry=registry)
    if found is None:
        raise LegalPersonUnknown(f"法人库中没有统一社会信用代码为 {body.credit_code.strip().upper()} 的单位")
    return found
