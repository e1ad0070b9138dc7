"""Business rules of applications: validation, idempotent submission, the applicant's list."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.contracts.common import Agent, Applicant, MaterialRef
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue
from yiwang_common.forms import form_errors, value_problems
from yiwang_common.http import Problem
from yiwang_common.http.pagination import ListResource, PageParams
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.service import ID_TYPE_BY_KIND, account_service
from yiwang_gateway.application.errors import ApplicationNotFound, FormInvalid, IdempotencyKeyReused
from yiwang_gateway.application.events import submitted_event
from yiwang_gateway.application.models import Application
from yiwang_gateway.application.repository import ApplicationRepository, TimelineRepository
from yiwang_gateway.application.schemas import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationLinks,
    ApplicationReceipt,
    ApplicationSummary,
    JointPartLine,
)
from yiwang_gateway.application.status import status_text
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.db import messaging
from yiwang_gateway.licence.client import LicenceClient
from yiwang_gateway.licence.errors import LicenceNotUsable
from yiwang_gateway.licence.service import licence_service
from yiwang_gateway.material.service import material_service


@dataclass(frozen=True)
class LicenceAccess:
    """How to ask data-sharing about the applicant's licences: the client and the caller's own token."""

    client: LicenceClient
    authorization: str


def request_hash(body: ApplicationCreate) -> str:
    """Fingerprint of a submission, to tell a retry from a different request under one key."""
    return hashlib.sha256(orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


def links(app: Application) -> ApplicationLinks:
    return ApplicationLinks(
        self=f"/api/v1/applications/{app.id}",
        item=f"/api/v1/items/{app.item_code}",
        case=f"/api/v1/cases/{app.case_no}" if app.case_no else None,
    )


def receipt(app: Application) -> ApplicationReceipt:
    # A replay must answer exactly as the first time, whatever happened since.
    return ApplicationReceipt(
        application_id=app.id,
        status="submitted",
        submitted_at=app.submitted_at,
        links=links(app).model_copy(update={"case": None}),
    )


def applicant_of(account: Account | Row[Any]) -> Applicant:
    return Applicant(
        account_id=str(account.id),
        name=account.name,
        kind=account.kind,
        id_type=account.id_type or ID_TYPE_BY_KIND[account.kind],
        id_number=account.id_number or "",
        phone=account.phone,
    )


def _describe(errors: list[dict[str, str]]) -> str:
    return "；".join(f"{e['title']}：{e['error']}" for e in errors[:10])


class ApplicationService:
    """网上申请 use cases."""

    async def _replay(
        self, session: AsyncSession, *, principal: Principal, key: str, digest: str
    ) -> ApplicationReceipt | None:
        existing = await ApplicationRepository.from_session(session).get_by_key(
            applicant_id=principal.sub, key=key
        )
        if existing is None:
            return None
        if existing.request_hash != digest:
            raise IdempotencyKeyReused("该 Idempotency-Key 已用于内容不同的申请")
        return receipt(existing)

    async def _check(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        body: ApplicationCreate,
        licences: LicenceAccess | None,
    ) -> tuple[Any, list[MaterialRef]]:
        item = await catalogue_service.for_application(session, item_code=body.item_code)
        if errors := form_errors(item.form_schema, body.form):
            raise FormInvalid(_describe(errors), fields=errors)
        refs = await material_service.resolve(
            session, owner_id=principal.sub, requirements=item.materials, selections=body.materials
        )
        if body.licences:
            if licences is None:
                raise LicenceNotUsable("无法核验所选电子证照")
            refs += await licence_service.materials(
                licences.client,
                authorization=licences.authorization,
                requirements=item.materials,
                selections=body.licences,
            )
        return item, refs

    async def submit(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        body: ApplicationCreate,
        idempotency_key: str | None,
        source: str,
        agent: Agent | None = None,
        licences: LicenceAccess | None = None,
    ) -> ApplicationReceipt:
        # Before anything else (hashing included): a lone surrogate cannot even be serialised.
        if problems := value_problems(body.form):
            raise FormInvalid(_describe(problems), fields=problems)
        digest = request_hash(body)
        try:
            item, refs = await self._check(session, principal=principal, body=body, licences=licences)
            applicant = applicant_of(
                await account_service.active_applicant(session, account_id=principal.sub)
            )
        except Problem:
            # A retry answers as the first time even when it would no longer pass the checks; a key
            # reused for a different request is refused before anything else.
            if idempotency_key and (
                replay := await self._replay(session, principal=principal, key=idempotency_key, digest=digest)
            ):
                return replay
            raise
        now = utcnow()
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "applicant_id": principal.sub,
            "applicant": applicant.model_dump(mode="json"),
            "agent": agent.model_dump(mode="json") if agent else None,
            "item_code": item.item_code,
            "item_name": item.name,
            "form": body.form,
            "materials": [r.model_dump(mode="json") for r in refs],
            "status": "submitted",
            "submitted_at": now,
            "idempotency_key": idempotency_key,
            "request_hash": digest,
            "missing_materials": [],
            "steps": [],
            "updated_at": now,
        }
        if not await ApplicationRepository.from_session(session).insert_unless_key_taken(values):
            assert idempotency_key is not None
            replay = await self._replay(session, principal=principal, key=idempotency_key, digest=digest)
            assert replay is not None
            return replay
        # A detached instance: only a carrier for the event and the receipt; the row is already inserted.
        app = Application(**values)
        await TimelineRepository.from_session(session).add(
            application_id=app.id,
            at=app.submitted_at,
            title="已提交申请",
            detail=f"申请事项：{item.name}",
        )
        await enqueue(
            session, messaging.outbox, submitted_event(app, applicant, refs, source=source, agent=agent)
        )
        return receipt(app)

    async def get(
        self, session: AsyncSession, *, principal: Principal, application_id: uuid.UUID
    ) -> ApplicationDetail:
        app = await ApplicationRepository.from_session(session).get_owned(
            applicant_id=principal.sub, application_id=application_id
        )
        if app is None:
            raise ApplicationNotFound()
        return ApplicationDetail(
            application_id=app.id,
            item_code=app.item_code,
            item_name=app.item_name,
            status=app.status,
            status_text=status_text(app.status, app.missing_materials),
            case_no=app.case_no,
            outcome=app.outcome,
            submitted_at=app.submitted_at,
            form=app.form,
            materials=app.materials,
            missing_materials=app.missing_materials,
            due_date=app.due_date,
            links=links(app),
            joint_parts=JointPartLine.from_stored(app.joint_parts),
        )

    async def list_own(
        self, session: AsyncSession, *, principal: Principal, status: str | None, page: PageParams
    ) -> ListResource[ApplicationSummary]:
        rows, total = await ApplicationRepository.from_session(session).list_owned(
            applicant_id=principal.sub, status=status, page=page.page, limit=page.limit
        )
        return page.wrap([summary(a) for a in rows], total)


def summary(app: Application | Row[Any]) -> ApplicationSummary:
    return ApplicationSummary(
        application_id=app.id,
        item_code=app.item_code,
        item_name=app.item_name,
        status=app.status,
        status_text=status_text(app.status, app.missing_materials),
        case_no=app.case_no,
        outcome=app.outcome,
        submitted_at=app.submitted_at,
    )


application_service = ApplicationService()
