"""Business rules of the case library: who may read a case record."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.http.pagination import ListResource, PageParams
from yiwang_datasharing.access import is_staff, scope_of
from yiwang_datasharing.audit import service as audit_service
from yiwang_datasharing.case_record.errors import CaseRecordNotFound
from yiwang_datasharing.case_record.repository import CaseRecordRepository
from yiwang_datasharing.case_record.schemas import CaseRecordSchema, CaseSummarySchema, ProcessStepSchema


class CaseRecordService:
    """Reads of the case library."""

    async def get_visible(
        self, session: AsyncSession, *, case_no: str, principal: Principal, reason: str | None = None
    ) -> CaseRecordSchema:
        """The record and its steps, for the applicant or staff of the item's unit or region.

        A staff member's read of the applicant's data is audited in the same unit of work.
        """
        repository = CaseRecordRepository.from_session(session)
        record = await repository.get_visible(case_no, scope_of(principal, reason=reason))
        if record is None:
            raise CaseRecordNotFound(f"办件 {case_no} 不存在")
        if is_staff(principal):
            await audit_service.record_read(
                session,
                principal=principal,
                target_type="case_record",
                target_id=case_no,
                region_code=case_no[:6],
                reason=reason,
            )
        steps = await repository.steps_of(case_no)
        schema = CaseRecordSchema.model_validate(record)
        schema.steps = [ProcessStepSchema.model_validate(s) for s in steps]
        return schema

    async def list_visible(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        status: str | None,
        page: PageParams,
        reason: str | None = None,
    ) -> ListResource[CaseSummarySchema]:
        """One page of the records the caller may read; an empty page for anyone else."""
        rows, total = await CaseRecordRepository.from_session(session).list_visible(
            scope_of(principal, reason=reason), status=status, offset=page.offset, limit=page.limit
        )
        return page.wrap([CaseSummarySchema.model_validate(r) for r in rows], total)


case_record_service = CaseRecordService()
