"""Queries on the applicant's projection of cases."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_gateway.application.models import Application


class ProgressRepository:
    """办件进度 queries."""

    async def get_for_update(self, session: AsyncSession, application_id: uuid.UUID) -> Application | None:
        # Row lock on PostgreSQL: a handler and a supplement on the same case must not interleave.
        stmt = select(Application).where(Application.id == application_id).with_for_update()
        return (await session.execute(stmt)).scalar_one_or_none()

    async def get_owned_by_case_no(
        self, session: AsyncSession, *, applicant_id: str, case_no: str, for_update: bool = False
    ) -> Application | None:
        stmt = select(Application).where(
            Application.case_no == case_no, Application.applicant_id == applicant_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await session.execute(stmt)).scalar_one_or_none()

    async def add(self, session: AsyncSession, app: Application) -> Application:
        session.add(app)
        await session.flush()
        return app


progress_repository = ProgressRepository()
