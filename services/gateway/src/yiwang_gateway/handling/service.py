"""补正 and 撤回 by the applicant: the portal checks ownership and the form, business decides the rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.contracts.lifecycle import CaseStatus
from yiwang_common.forms import form_errors
from yiwang_gateway.application.errors import FormInvalid
from yiwang_gateway.application.models import Application
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.handling.client import BusinessClient
from yiwang_gateway.handling.errors import CaseNotInHandling, HandlingRefused
from yiwang_gateway.handling.schemas import CorrectionCreate, HandlingReceipt, WithdrawCreate
from yiwang_gateway.progress.errors import CaseNotFound
from yiwang_gateway.progress.repository import ProgressRepository

#: Before acceptance the case is management's (一次性告知 and 补正材料 are there), not business's.
_BEFORE_HANDLING = {CaseStatus.SUBMITTED, CaseStatus.PENDING_ACCEPTANCE, CaseStatus.AWAITING_SUPPLEMENT}


class HandlingService:
    """The applicant's actions on a case in handling (审批办理)."""

    async def _owned(self, session: AsyncSession, principal: Principal, case_no: str) -> Application:
        app = await ProgressRepository.from_session(session).get_owned_by_case_no(
            applicant_id=principal.sub, case_no=case_no
        )
        if app is None:
            raise CaseNotFound(f"办件 {case_no} 不存在")
        if app.withdrawn_at is not None:
            raise HandlingRefused(f"办件 {case_no} 已撤回")
        if app.status in (CaseStatus.COMPLETED, CaseStatus.NOT_ACCEPTED):
            raise HandlingRefused(f"办件 {case_no} 已办结，不能再补正或撤回")
        if app.status in _BEFORE_HANDLING:
            raise CaseNotInHandling(f"办件 {case_no} 尚未受理、进入审批办理，暂不能在此补正或撤回")
        return app

    async def correct(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        case_no: str,
        body: CorrectionCreate,
        client: BusinessClient,
        token: str,
    ) -> HandlingReceipt:
        """补正: the corrected form must still pass the item's schema; business checks it was asked for."""
        app = await self._owned(session, principal, case_no)
        if body.form:
            item = await catalogue_service.for_application(session, item_code=app.item_code)
            merged: dict[str, Any] = {**app.form, **body.form}
            if errors := form_errors(item.form_schema, merged):
                raise FormInvalid(
                    "；".join(f"{e['title']}：{e['error']}" for e in errors[:10]), fields=errors
                )
        result = await client.correct(case_no, token, form=body.form, note=body.note)
        return HandlingReceipt.model_validate(result)

    async def withdraw(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        case_no: str,
        body: WithdrawCreate,
        client: BusinessClient,
        token: str,
    ) -> HandlingReceipt:
        """撤回 before the decision (business refuses a decided or withdrawn case)."""
        await self._owned(session, principal, case_no)
        result = await client.withdraw(case_no, token, reason=body.reason)
        return HandlingReceipt.model_validate(result)


handling_service = HandlingService()
