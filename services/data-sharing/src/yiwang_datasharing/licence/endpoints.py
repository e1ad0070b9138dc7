"""REST endpoints of the e-licence library: ``/licences``, ``/licence-verifications``, the catalogue and keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import AccessReason, ReasonRequired
from yiwang_common.auth import CurrentPrincipal
from yiwang_common.db import get_session
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_common.http.problems import Unauthorized, ValidationFailed, problem_responses
from yiwang_datasharing.licence.errors import (
    HolderListingDenied,
    LicenceCatalogueForbidden,
    LicenceKeyForbidden,
    LicenceNotFound,
    LicenceRevoked,
    LicenceStatusForbidden,
    LicenceTypeNotFound,
    LicenceVerificationNotFound,
    SigningKeyNotFound,
)
from yiwang_datasharing.licence.schemas import (
    HeldLicenceSchema,
    HolderLicences,
    IdentifierPath,
    KidPath,
    LicenceSchema,
    LicenceTypeBody,
    LicenceTypeSchema,
    LicenceVerificationSchema,
    OrgCodePath,
    SignedDocumentSchema,
    SigningKeySchema,
    StatusChange,
    TokenPath,
    TypeCodePath,
)
from yiwang_datasharing.licence.service import LicenceSigner, licence_service

router = APIRouter(prefix="/licences", tags=["licences"])
verification_router = APIRouter(prefix="/licence-verifications", tags=["licences"])
catalogue_router = APIRouter(prefix="/licence-types", tags=["licences"])
keys_router = APIRouter(prefix="/licence-keys", tags=["licences"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def _signer(request: Request) -> LicenceSigner:
    signer: LicenceSigner = request.app.state.licence_signer
    return signer


Signer = Annotated[LicenceSigner, Depends(_signer)]


def _source(request: Request) -> str:
    source: str = request.app.state.event_source
    return source


@router.get(
    "",
    summary="我的证照 The caller's licences",
    response_model=list[HeldLicenceSchema],
    responses=problem_responses(Unauthorized),
)
async def list_held_licences(principal: CurrentPrincipal, session: Session) -> list[HeldLicenceSchema]:
    """The licences of the caller's own cases, with their verification token (二维码) and status."""
    return await licence_service.list_held(session, principal=principal)


@router.get(
    "/by-holder",
    summary="持证主体的证照 Licences of one holder (portal only)",
    response_model=HolderLicences,
    responses=problem_responses(Unauthorized, HolderListingDenied),
)
async def licences_of_holder(
    request: Request,
    principal: CurrentPrincipal,
    session: Session,
    holder_code: Annotated[
        str, Query(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$", description="持证主体代码")
    ],
) -> HolderLicences:
    """For the portal's 我的证照: exact holder code, asked by the portal's service principal only."""
    return await licence_service.of_holder(
        session,
        holder_code=holder_code.upper(),
        principal=principal,
        service_clients=request.app.state.settings.registry_service_clients,
    )


@router.get(
    "/{identifier}",
    summary="电子证照 E-licence",
    response_model=LicenceSchema,
    responses=problem_responses(Unauthorized, ReasonRequired, LicenceNotFound),
)
async def get_licence(
    identifier: IdentifierPath, principal: CurrentPrincipal, session: Session, reason: AccessReason
) -> LicenceSchema:
    """Return an e-licence to its holder or to staff of the item's unit or region."""
    return await licence_service.get_visible(
        session, identifier=identifier, principal=principal, reason=reason
    )


@router.get(
    "/{identifier}/document",
    summary="证照签名件 Signed licence document",
    response_model=SignedDocumentSchema,
    responses=problem_responses(Unauthorized, LicenceNotFound),
)
async def get_licence_document(
    identifier: IdentifierPath, principal: CurrentPrincipal, session: Session, reason: AccessReason
) -> SignedDocumentSchema:
    """The signed document (canonical payload and signature), verifiable offline with the unit's public key."""
    return await licence_service.document(session, identifier=identifier, principal=principal, reason=reason)


@router.post(
    "/{identifier}/status",
    summary="证照状态变更 Suspend, reinstate or revoke",
    response_model=LicenceSchema,
    responses=problem_responses(Unauthorized, LicenceStatusForbidden, LicenceNotFound, LicenceRevoked),
)
async def change_licence_status(
    identifier: IdentifierPath,
    body: StatusChange,
    principal: CurrentPrincipal,
    session: Session,
    request: Request,
) -> LicenceSchema:
    """The issuing unit's approver or administrator suspends (暂停), reinstates or revokes (撤销) a licence.

    Verification reflects the change at once; a revocation is final.
    """
    return await licence_service.change_status(
        session, identifier=identifier, change=body, principal=principal, source=_source(request)
    )


@verification_router.get(
    "/{token}",
    summary="证照核验 Verify by the QR code's token (public)",
    response_model=LicenceVerificationSchema,
    responses=problem_responses(LicenceVerificationNotFound),
)
async def verify_by_token(token: TokenPath, session: Session, signer: Signer) -> LicenceVerificationSchema:
    """Check the stored signed licence now: signature, revocation, suspension, expiry. No personal data."""
    return await licence_service.verify_token(session, signer, token=token)


@verification_router.post(
    "",
    summary="证照核验 Verify a presented signed document (public)",
    response_model=LicenceVerificationSchema,
    responses=problem_responses(ValidationFailed),
)
async def verify_document(
    body: SignedDocumentSchema, session: Session, signer: Signer
) -> LicenceVerificationSchema:
    """Check a signed document handed over offline: any changed byte of payload or signature fails."""
    return await licence_service.verify_document(session, signer, document=body)


@catalogue_router.get(
    "",
    summary="证照目录 Licence catalogue (public)",
    response_model=ListResource[LicenceTypeSchema],
    responses=problem_responses(ValidationFailed),
)
async def list_licence_types(session: Session, page: PageQuery) -> ListResource[LicenceTypeSchema]:
    """The licence types of the catalogue (GB/T 36902), by code."""
    return await licence_service.list_types(session, page=page)


@catalogue_router.get(
    "/{code}",
    summary="证照类型 Licence type (public)",
    response_model=LicenceTypeSchema,
    responses=problem_responses(LicenceTypeNotFound),
)
async def get_licence_type(code: TypeCodePath, session: Session) -> LicenceTypeSchema:
    """One licence type of the catalogue."""
    return await licence_service.get_type(session, code=code)


@catalogue_router.put(
    "/{code}",
    summary="证照目录维护 Enter or replace a licence type",
    response_model=LicenceTypeSchema,
    responses=problem_responses(Unauthorized, LicenceCatalogueForbidden),
)
async def put_licence_type(
    code: TypeCodePath, body: LicenceTypeBody, principal: CurrentPrincipal, session: Session
) -> LicenceTypeSchema:
    """An administrator enters or replaces a licence type (name, levels, validity, data items)."""
    return await licence_service.put_type(session, code=code, body=body, principal=principal)


@keys_router.get(
    "/{kid}",
    summary="签名公钥 Public signing key (public)",
    response_model=SigningKeySchema,
    responses=problem_responses(SigningKeyNotFound),
)
async def get_signing_key(kid: KidPath, session: Session) -> SigningKeySchema:
    """A unit's public key by id, retired or not, for offline verification."""
    return await licence_service.signing_key(session, kid=kid)


@keys_router.post(
    "/{org_code}/rotation",
    summary="密钥轮换 Rotate a unit's signing key",
    response_model=SigningKeySchema,
    responses=problem_responses(Unauthorized, LicenceKeyForbidden),
)
async def rotate_signing_key(
    org_code: OrgCodePath, principal: CurrentPrincipal, session: Session, signer: Signer
) -> SigningKeySchema:
    """The unit's administrator retires its key in use and gets a new one; old licences still verify."""
    return await licence_service.rotate_key(session, signer, org_code=org_code, principal=principal)
