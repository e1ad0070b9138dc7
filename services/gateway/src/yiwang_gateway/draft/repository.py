"""Queries on application drafts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.draft.models import ApplicationDraft

#: What the owner's list shows: no form or materials to load and decode.
_SUMMARY_COLUMNS: tuple[Any, ...] = (
    ApplicationDraft.id,
    ApplicationDraft.item_code,
    ApplicationDraft.item_name,
    ApplicationDraft.updated_at,
)


class DraftRepository(RepositoryBase[ApplicationDraft]):
    """申请草稿 queries; every read is by owner, so another account's draft is simply not found."""

    model = ApplicationDraft

    async def get_owned(
        self, *, applicant_id: str, draft_id: uuid.UUID, lock: bool = False
    ) -> ApplicationDraft | None:
        stmt = self.get_base_statement().where(
            ApplicationDraft.id == draft_id, ApplicationDraft.applicant_id == applicant_id
        )
        if lock:
            stmt = stmt.with_for_update()
        return await self.get_one_or_none(stmt)

    async def mark_submitted(self, draft_id: uuid.UUID, application_id: uuid.UUID) -> bool:
        """Tie the draft to its application; False when another submission did already."""
        result = await self.execute(
            update(ApplicationDraft)
            .where(ApplicationDraft.id == draft_id, ApplicationDraft.application_id.is_(None))
            .values(application_id=application_id)
            .returning(ApplicationDraft.id)
        )
        return result.first() is not None

    async def list_open(self, *, applicant_id: str, page: int, limit: int) -> tuple[Sequence[Any], int]:
        """One page of the applicant's drafts not yet submitted, last saved first, and the total."""
        stmt = (
            select(*_SUMMARY_COLUMNS)
            .where(ApplicationDraft.applicant_id == applicant_id, ApplicationDraft.application_id.is_(None))
            .order_by(ApplicationDraft.updated_at.desc(), ApplicationDraft.id)
        )
        return await self.paginate(stmt, page=page, limit=limit)
