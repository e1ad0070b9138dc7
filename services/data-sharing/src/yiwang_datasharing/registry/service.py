"""Business rules of the base registries: who may look up, exact-match lookups, file loads."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
import uuid
from collections.abc import Callable

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import ROLE_ADMIN, Principal
from yiwang_common.db import session_scope, utcnow
from yiwang_common.masking import mask_id_number
from yiwang_datasharing.registry.audit import LookupCaller, record_lookup
from yiwang_datasharing.registry.errors import (
    AccessReasonRequired,
    InvalidLookupKey,
    LoadJobNotFound,
    RegistryAccessDenied,
    RegistryRecordNotFound,
)
from yiwang_datasharing.registry.files import (
    ACTIVE_STATUSES,
    FileUnreadable,
    Registry,
    credit_code_problem,
    id_number_problem,
    parse_registry_file,
)
from yiwang_datasharing.registry.models import RegistryLoadJob
from yiwang_datasharing.registry.repository import (
    LegalPersonRepository,
    LoadJobRepository,
    PopulationRepository,
)
from yiwang_datasharing.registry.schemas import (
    LegalPersonRecordOut,
    LegalPersonVerifyRequest,
    LoadJobOut,
    PersonRecordOut,
    PersonVerifyRequest,
    RowErrorOut,
    VerifyResult,
)

log = logging.getLogger(__name__)

#: Rows written per transaction: progress moves every batch, and a crash loses at most one.
BATCH_ROWS = 1000
#: Row errors a job keeps for its status; error_count has the full number.
KEPT_ERRORS = 1000

#: (done rows, total rows) after each batch: the command line's progress bar.
ProgressCallback = Callable[[int, int], None]


def _same(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a.strip()) == unicodedata.normalize("NFC", b.strip())


def authorise_lookup(
    principal: Principal, *, service_clients: list[str], staff_roles: list[str], reason: str | None
) -> LookupCaller:
    """Admit the portal's service principal and authorised staff with a reason; deny everyone else.

    Args:
        principal: the verified caller.
        service_clients: service principals (token ``sub``) that may look up.
        staff_roles: staff roles that may look up (window staff checking a person in front of them).
        reason: the caller's 查询事由 (``X-Access-Reason``).

    Returns:
        The caller as the lookup record names it.

    Raises:
        RegistryAccessDenied: for anyone else (applicants included: they never query directly).
        AccessReasonRequired: for staff without a reason.
    """
    if principal.kind == "service" and principal.sub in service_clients:
        return LookupCaller(principal=principal, reason=reason)
    if principal.is_staff and principal.roles.intersection(staff_roles):
        if not reason:
            raise AccessReasonRequired("工作人员查询基础库须在 X-Access-Reason 中说明事由")
        return LookupCaller(principal=principal, reason=reason)
    raise RegistryAccessDenied("仅门户服务与经授权的工作人员可查询基础库")


def authorise_load(principal: Principal) -> None:
    """Only a centre administrator (中心管理员) loads registry files through the API."""
    if not (principal.is_staff and principal.has_role(ROLE_ADMIN)):
        raise RegistryAccessDenied("仅中心管理员可导入基础库文件")


def job_out(job: RegistryLoadJob) -> LoadJobOut:
    """A load job as its status endpoint shows it."""
    return LoadJobOut(
        id=job.id,
        registry=job.registry_kind,
        filename=job.filename,
        sha256=job.sha256,
        status=job.status,
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        inserted=job.inserted,
        updated=job.updated,
        unchanged=job.unchanged,
        error_count=job.error_count,
        errors=[RowErrorOut.model_validate(e) for e in job.errors],
        detail=job.detail,
        started_at=job.started_at,
        finished_at=job.finished_at,
        links={"self": f"/api/v1/registry/loads/{job.id}"},
    )


class RegistryService:
    """基础库 use cases."""

    # --- lookups ------------------------------------------------------------------------------

    async def verify_person(
        self, session: AsyncSession, *, caller: LookupCaller, body: PersonVerifyRequest
    ) -> VerifyResult:
        """Whether the registry has this 公民身份号码 with exactly this name."""
        id_number = _checked_id(body.id_number)
        row = await PopulationRepository.from_session(session).get_exact(id_number)
        matched = row is not None and _same(row.name, body.name)
        await record_lookup(
            session, caller=caller, registry="population", purpose="verify", key=id_number, matched=matched
        )
        return VerifyResult(matched=matched)

    async def prefill_person(
        self, session: AsyncSession, *, caller: LookupCaller, body: PersonVerifyRequest
    ) -> PersonRecordOut:
        """The registry's record of a person, for pre-filling, after an exact match of name and number."""
        id_number = _checked_id(body.id_number)
        row = await PopulationRepository.from_session(session).get_exact(id_number)
        matched = row is not None and _same(row.name, body.name)
        await record_lookup(
            session, caller=caller, registry="population", purpose="prefill", key=id_number, matched=matched
        )
        if row is None or not matched:
            await _keep_record(session)
            raise RegistryRecordNotFound("人口库中没有与该姓名和公民身份号码一致的记录")
        return PersonRecordOut(
            id_number=row.id_number,
            name=row.name,
            gender=row.gender,
            birth_date=row.birth_date,
            address=row.address,
        )

    async def verify_legal_person(
        self, session: AsyncSession, *, caller: LookupCaller, body: LegalPersonVerifyRequest
    ) -> VerifyResult:
        """Whether the unit, its name and its 法定代表人 (name and number) are as the registry holds them."""
        code = _checked_code(body.credit_code)
        rep_id = _checked_id(body.legal_rep_id_number)
        row = await LegalPersonRepository.from_session(session).get_exact(code)
        matched = (
            row is not None
            and _same(row.name, body.name)
            and _same(row.legal_rep_name, body.legal_rep_name)
            and row.legal_rep_id_number == rep_id
        )
        await record_lookup(
            session, caller=caller, registry="legal_person", purpose="verify", key=code, matched=matched
        )
        return VerifyResult(
            matched=matched, active=(row.status in ACTIVE_STATUSES) if row and matched else None
        )

    async def lookup_legal_person(
        self, session: AsyncSession, *, caller: LookupCaller, credit_code: str
    ) -> LegalPersonRecordOut:
        """A unit by its exact 统一社会信用代码, for pre-filling (the representative's number masked)."""
        code = _checked_code(credit_code)
        row = await LegalPersonRepository.from_session(session).get_exact(code)
        await record_lookup(
            session,
            caller=caller,
            registry="legal_person",
            purpose="prefill",
            key=code,
            matched=row is not None,
        )
        if row is None:
            await _keep_record(session)
            raise RegistryRecordNotFound(f"法人库中没有统一社会信用代码为 {code} 的单位")
        return LegalPersonRecordOut(
            credit_code=row.credit_code,
            name=row.name,
            legal_rep_name=row.legal_rep_name,
            legal_rep_id_number_masked=mask_id_number(row.legal_rep_id_number) or "",
            address=row.address,
            established_on=row.established_on,
            status=row.status,
        )

    # --- loads --------------------------------------------------------------------------------

    async def create_job(
        self, session: AsyncSession, *, registry: Registry, content: bytes, filename: str, started_by: str
    ) -> RegistryLoadJob:
        """Record a new load, running; ``run_load`` does the work."""
        job = RegistryLoadJob(
            id=uuid.uuid4(),
            registry_kind=registry.value,
            filename=filename[:255],
            sha256=hashlib.sha256(content).hexdigest(),
            status="running",
            total_rows=0,
            processed_rows=0,
            inserted=0,
            updated=0,
            unchanged=0,
            error_count=0,
            errors=[],
            started_by=started_by[:64],
            started_at=utcnow(),
        )
        return await LoadJobRepository.from_session(session).create(job, flush=True)

    async def get_job(self, session: AsyncSession, *, job_id: uuid.UUID) -> LoadJobOut:
        job = await LoadJobRepository.from_session(session).get(job_id)
        if job is None:
            raise LoadJobNotFound(f"导入任务 {job_id} 不存在")
        return job_out(job)

    async def run_load(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        job_id: uuid.UUID,
        registry: Registry,
        content: bytes,
        filename: str,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        """Check the file, then write its valid rows batch by batch, moving the job's progress.

        Valid rows load even when others are refused: the errors say which rows to fix, and
        loading the corrected file again changes only those (a reload is idempotent: rows whose
        values did not change are not written). Rows the file does not mention stay as they are.
        """
        try:
            parsed = await anyio.to_thread.run_sync(parse_registry_file, registry, content, filename)
        except FileUnreadable as exc:
            await self._finish(sessionmaker, job_id, status="failed", detail=str(exc))
            return
        refused = parsed.total_rows - len(parsed.rows)
        async with session_scope(sessionmaker) as session:
            await LoadJobRepository.from_session(session).progress(
                job_id,
                total_rows=parsed.total_rows,
                processed_rows=refused,
                error_count=len(parsed.errors),
                errors=[e.as_dict() for e in parsed.errors[:KEPT_ERRORS]],
            )
        done = refused
        if on_progress:
            on_progress(done, parsed.total_rows)
        now = utcnow()
        try:
            for start in range(0, len(parsed.rows), BATCH_ROWS):
                batch = [
                    {**row, "load_job_id": job_id, "updated_at": now}
                    for row in parsed.rows[start : start + BATCH_ROWS]
                ]
                async with session_scope(sessionmaker) as session:
                    repo: PopulationRepository | LegalPersonRepository = (
                        PopulationRepository.from_session(session)
                        if registry is Registry.POPULATION
                        else LegalPersonRepository.from_session(session)
                    )
                    inserted, updated = await repo.upsert(batch)
                    await LoadJobRepository.from_session(session).progress(
                        job_id,
                        processed_rows=len(batch),
                        inserted=inserted,
                        updated=updated,
                        unchanged=len(batch) - inserted - updated,
                    )
                done += len(batch)
                if on_progress:
                    on_progress(done, parsed.total_rows)
        except Exception as exc:
            log.exception("registry load %s failed", job_id)
            await self._finish(
                sessionmaker, job_id, status="failed", detail=f"写入失败：{type(exc).__name__}"
            )
            return
        await self._finish(sessionmaker, job_id, status="completed", detail=None)

    async def _finish(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        job_id: uuid.UUID,
        *,
        status: str,
        detail: str | None,
    ) -> None:
        async with session_scope(sessionmaker) as session:
            await LoadJobRepository.from_session(session).progress(
                job_id, status=status, detail=detail, finished_at=utcnow()
            )


async def _keep_record(session: AsyncSession) -> None:
    # The answer is a problem, which rolls the unit of work back; a lookup that found nothing
    # must stay on record all the same (probing is what the record is for). It wrote nothing else.
    await session.commit()


def _checked_id(value: str) -> str:
    value = value.strip().upper()
    if problem := id_number_problem(value):
        raise InvalidLookupKey(problem)
    return value


def _checked_code(value: str) -> str:
    value = value.strip().upper()
    if problem := credit_code_problem(value):
        raise InvalidLookupKey(problem)
    return value


registry_service = RegistryService()
