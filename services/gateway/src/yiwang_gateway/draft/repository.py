"""Queries on application drafts."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.draft.models import ApplicationDraft


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
