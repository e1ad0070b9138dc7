"""Business rules of the case library: who may read a case record."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_datasharing.access import is_staff
from yiwang_datasharing.case_record.errors import CaseRecordNotFound
from yiwang_datasharing.case_record.repository import case_record_repository
from yiwang_datasharing.case_record.schemas import CaseRecordSchema, ProcessStepSchema


class CaseRecordService:
    """Reads of the case library."""

    async def get_visible(
        self, session: AsyncSession, *, case_no: str, principal: Principal
    ) -> CaseRecordSchema:
        """The record and its steps, for staff or the applicant; anyone else sees nothing."""
        record = await case_record_repository.get_by_case_no(session, case_no)
        if record is None or not (is_staff(principal) or record.applicant_id == principal.sub):
            raise CaseRecordNotFound(f"办件 {case_no} 不存在")
        steps = await case_record_repository.steps_of(session, case_no)
        schema = CaseRecordSchema.model_validate(record)
        schema.steps = [ProcessStepSchema.model_validate(s) for s in steps]
        return schema


case_record_service = CaseRecordService()
