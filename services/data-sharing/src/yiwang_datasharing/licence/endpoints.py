"""REST endpoints of the e-licence library: ``/licences``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import AccessReason, ReasonRequired
from yiwang_common.auth import CurrentPrincipal
from yiwang_common.db import get_session
from yiwang_common.http.problems import Unauthorized, problem_responses
from yiwang_datasharing.licence.errors import LicenceNotFound
from yiwang_datasharing.licence.schemas import IdentifierPath, LicenceSchema, LicenceVerificationSchema
from yiwang_datasharing.licence.service import licence_service

router = APIRouter(prefix="/licences", tags=["licences"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


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
    "/{identifier}/verification",
    summary="证照核验 Verify an e-licence (public)",
    response_model=LicenceVerificationSchema,
    responses=problem_responses(LicenceNotFound),
)
async def verify_licence(identifier: IdentifierPath, session: Session) -> LicenceVerificationSchema:
    """Tell anyone holding an identifier whether it names a licence in force; no personal data."""
    return await licence_service.verify(session, identifier=identifier)
