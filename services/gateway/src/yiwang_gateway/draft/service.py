"""Business rules of drafts: save anything the applicant typed so far, submit once with the full checks."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.contracts.common import Agent
from yiwang_common.db import utcnow
from yiwang_common.forms import value_problems
from yiwang_common.http.pagination import ListResource, PageParams
from yiwang_gateway.application.errors import FormInvalid
from yiwang_gateway.application.schemas import ApplicationCreate, ApplicationReceipt
from yiwang_gateway.application.service import application_service
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.draft.errors import DraftAlreadySubmitted, DraftNotFound
from yiwang_gateway.draft.models import ApplicationDraft
from yiwang_gateway.draft.repository import DraftRepository
from yiwang_gateway.draft.schemas import DraftContent, DraftCreate, DraftSummary, DraftView
from yiwang_gateway.material.schemas import MaterialSelection
from yiwang_gateway.material.service import material_service


def view(draft: ApplicationDraft) -> DraftView:
    return DraftView(
        draft_id=draft.id,
        item_code=draft.item_code,
        item_name=draft.item_name,
        form=draft.form,
        materials=[MaterialSelection.model_validate(m) for m in draft.materials],
        created_at=draft.created_at,
        updated_at=draft.updated_at,
        application_id=draft.application_id,
    )


def _dedupe(selections: list[MaterialSelection]) -> list[MaterialSelection]:
    return list({(s.material_code, s.sha256): s for s in selections}.values())


class DraftService:
    """申请草稿 use cases; ``principal`` is the applicant acting (an agent's is the legal person)."""

    async def _check_content(
        self, session: AsyncSession, *, principal: Principal, item: Any, content: DraftContent
    ) -> None:
        # A draft may be incomplete, but what it holds must be storable and its files the applicant's own.
        if problems := value_problems(content.form):
            raise FormInvalid("；".join(f"{p['title']}：{p['error']}" for p in problems), fields=problems)
        await material_service.resolve(
            session, owner_id=principal.sub, requirements=item.materials, selections=content.materials
        )

    async def create(self, session: AsyncSession, *, principal: Principal, body: DraftCreate) -> DraftView:
        item = await catalogue_service.for_application(session, item_code=body.item_code)
        body = body.model_copy(update={"materials": _dedupe(body.materials)})
        await self._check_content(session, principal=principal, item=item, content=body)
        now = utcnow()
        draft = ApplicationDraft(
            id=uuid.uuid4(),
            applicant_id=principal.sub,
            item_code=item.item_code,
            item_name=item.name,
            form=body.form,
            materials=[m.model_dump(mode="json") for m in body.materials],
            created_at=now,
            updated_at=now,
            application_id=None,
        )
        await DraftRepository.from_session(session).create(draft, flush=True)
        return view(draft)

    async def _owned(
        self, session: AsyncSession, principal: Principal, draft_id: uuid.UUID, *, lock: bool = False
    ) -> ApplicationDraft:
        draft = await DraftRepository.from_session(session).get_owned(
            applicant_id=principal.sub, draft_id=draft_id, lock=lock
        )
        if draft is None:
            raise DraftNotFound(f"申请草稿 {draft_id} 不存在")
        return draft

    async def list_open(
        self, session: AsyncSession, *, principal: Principal, page: PageParams
    ) -> ListResource[DraftSummary]:
        """我的草稿: drafts not yet submitted, last saved first."""
        rows, total = await DraftRepository.from_session(session).list_open(
            applicant_id=principal.sub, page=page.page, limit=page.limit
        )
        items = [
            DraftSummary(draft_id=r.id, item_code=r.item_code, item_name=r.item_name, updated_at=r.updated_at)
            for r in rows
        ]
        return page.wrap(items, total)

    async def get(self, session: AsyncSession, *, principal: Principal, draft_id: uuid.UUID) -> DraftView:
        return view(await self._owned(session, principal, draft_id))

    async def save(
        self, session: AsyncSession, *, principal: Principal, draft_id: uuid.UUID, body: DraftContent
    ) -> DraftView:
        """保存草稿: replace the form and the material choices (no schema check: it may be unfinished)."""
        draft = await self._owned(session, principal, draft_id, lock=True)
        if draft.application_id is not None:
            raise DraftAlreadySubmitted(f"草稿已提交为申请 {draft.application_id}")
        item = await catalogue_service.for_application(session, item_code=draft.item_code)
        body = body.model_copy(update={"materials": _dedupe(body.materials)})
        await self._check_content(session, principal=principal, item=item, content=body)
        await DraftRepository.from_session(session).update(
            draft,
            update_dict={
                "form": body.form,
                "materials": [m.model_dump(mode="json") for m in body.materials],
                "updated_at": utcnow(),
            },
            flush=True,
        )
        return view(draft)

    async def submit(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        draft_id: uuid.UUID,
        source: str,
        agent: Agent | None = None,
    ) -> ApplicationReceipt:
        """提交: the draft becomes an application through the same checks as ``POST /applications``, once."""
        draft = await self._owned(session, principal, draft_id, lock=True)
        if draft.application_id is not None:
            raise DraftAlreadySubmitted(f"草稿已提交为申请 {draft.application_id}")
        body = ApplicationCreate(
            item_code=draft.item_code,
            form=draft.form,
            materials=[MaterialSelection.model_validate(m) for m in draft.materials],
        )
        receipt = await application_service.submit(
            session,
            principal=principal,
            body=body,
            idempotency_key=f"draft:{draft.id}",
            source=source,
            agent=agent,
        )
        await DraftRepository.from_session(session).mark_submitted(draft.id, receipt.application_id)
        return receipt


draft_service = DraftService()
