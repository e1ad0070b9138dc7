"""REST endpoints of the e-licence library: ``/licences``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import CurrentPrincipal
from yiwang_common.db import get_session
from yiwang_common.http.problems import Unauthorized, problem_responses
from yiwang_datasharing.licence.errors import HolderListingDenied, LicenceNotFound
from yiwang_datasharing.licence.schemas import (
    HolderLicences,
    IdentifierPath,
    LicenceSchema,
    LicenceVerificationSchema,
)
from yiwang_datasharing.licence.service import licence_service

router = APIRouter(prefix="/licences", tags=["licences"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


@router.get(
    "",
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
    responses=problem_responses(Unauthorized, LicenceNotFound),
)
async def get_licence(
    identifier: IdentifierPath, principal: CurrentPrincipal, session: Session
) -> LicenceSchema:
    """Return an e-licence to its holder or to staff of the item's unit or region."""
    return await licence_service.get_visible(session, identifier=identifier, principal=principal)


@router.get(
    "/{identifier}/verification",
    summary="证照核验 Verify an e-licence (public)",
    response_model=LicenceVerificationSchema,
    responses=problem_responses(LicenceNotFound),
)
async def verify_licence(identifier: IdentifierPath, session: Session) -> LicenceVerificationSchema:
    """Tell anyone holding an identifier whether it names a licence in force; no personal data."""
    return await licence_service.verify(session, identifier=identifier)
