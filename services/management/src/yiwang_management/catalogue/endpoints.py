"""REST surface of the catalogue: 目录清单 entries and the version workflow of 实施清单 entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import STAFF_ROLES, Principal, require_role
from yiwang_common.contracts.codes import ItemType
from yiwang_common.db import get_session
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_common.http.problems import PayloadTooLarge, ValidationFailed
from yiwang_common.text import Filename
from yiwang_management.catalogue import imports, service, spreadsheet
from yiwang_management.catalogue.errors import (
    EntryExists,
    EntryNotFound,
    InvalidItemCode,
    NotOwner,
    VersionNotFound,
    VersionStateConflict,
)
from yiwang_management.catalogue.models import (
    IMPORT_FINISHED,
    IMPORT_STATUS_NAMES,
    PHASE_NAMES,
    STATUS_NAMES,
    CatalogueEntry,
    CatalogueImport,
    CatalogueImportError,
    ItemVersion,
)
from yiwang_management.catalogue.schemas import (
    CatalogueEntryCreate,
    CatalogueEntrySchema,
    ImplementationContent,
    ImportError_,
    ImportJob,
    VersionCreate,
    VersionDiff,
    VersionSchema,
    VersionTransition,
)
from yiwang_management.item.errors import ItemVersionConflict

router = APIRouter(prefix="/catalogue", tags=["catalogue"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
Staff = Annotated[Principal, require_role(*STAFF_ROLES)]
ItemCodePath = Annotated[
    str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Z]+$", description="实施编码")
]
VersionPath = Annotated[int, Path(ge=1, le=1_000_000, description="事项版本")]
BasicCodePath = Annotated[
    str, Path(min_length=1, max_length=12, pattern=r"^[0-9A-Z]+$", description="基本编码")
]
_WRITE = (Unauthorized, Forbidden, NotOwner, VersionNotFound, VersionStateConflict)


def _entry(entry: CatalogueEntry) -> CatalogueEntrySchema:
    values = {c: getattr(entry, c) for c in CatalogueEntrySchema.model_fields if c != "item_type_name"}
    return CatalogueEntrySchema.model_validate(
        values | {"item_type_name": ItemType.of(entry.item_type).label}
    )


async def _version(session: AsyncSession, version: ItemVersion) -> VersionSchema:
    entry = await service.get_entry(session, version.basic_code)
    content = ImplementationContent.model_validate(version.content)
    return VersionSchema.model_validate(
        {c: getattr(version, c) for c in VersionSchema.model_fields if hasattr(version, c)}
        | {
            "status_name": STATUS_NAMES[version.status],
            "name": entry.name,
            "dimensions": service.dimensions(content, entry.item_type),
        }
    )


@router.post(
    "/entries",
    summary="编制目录清单事项 Compile a catalogue entry",
    response_model=CatalogueEntrySchema,
    status_code=201,
    responses=problem_responses(Unauthorized, Forbidden, NotOwner, EntryExists, EntryNotFound),
)
async def create_entry(
    body: CatalogueEntryCreate, session: Session, principal: Staff
) -> CatalogueEntrySchema:
    """目录清单 The centre compiles an entry; repeating the same entry changes nothing."""
    entry = await service.create_entry(session, body, principal)
    return _entry(entry)


@router.get(
    "/entries",
    summary="目录清单 List catalogue entries",
    response_model=list[CatalogueEntrySchema],
    responses=problem_responses(),
)
async def list_entries(session: Session) -> list[CatalogueEntrySchema]:
    """Every catalogue entry, by 基本编码."""
    return [_entry(e) for e in await service.list_entries(session)]


@router.get(
    "/entries/{basic_code}",
    summary="目录清单事项 Get a catalogue entry",
    response_model=CatalogueEntrySchema,
    responses=problem_responses(EntryNotFound),
)
async def get_entry(basic_code: BasicCodePath, session: Session) -> CatalogueEntrySchema:
    """One catalogue entry."""
    return _entry(await service.get_entry(session, basic_code))


@router.get(
    "/versions",
    summary="实施清单版本列表 List versions",
    response_model=ListResource[VersionSchema],
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_versions(
    session: Session,
    principal: Staff,
    pages: PageQuery,
    status: Annotated[str | None, Query(pattern="^(" + "|".join(STATUS_NAMES) + ")$")] = None,
) -> ListResource[VersionSchema]:
    """Staff see their body's versions; the centre sees every body's (its review queue)."""
    org_code = None if service.is_centre(principal) else principal.org_code or ""
    versions, total = await service.list_versions(
        session, org_code=org_code, status=status, page=pages.page, limit=pages.limit
    )
    return pages.wrap([await _version(session, v) for v in versions], total)


@router.post(
    "/items",
    summary="新建实施清单版本 Start a draft",
    response_model=VersionSchema,
    status_code=201,
    responses=problem_responses(*_WRITE, EntryNotFound, InvalidItemCode),
)
async def create_version(body: VersionCreate, session: Session, principal: Staff) -> VersionSchema:
    """草稿 The implementing body starts a new version (the first one creates the entry)."""
    return await _version(session, await service.create_version(session, body, principal))


@router.get(
    "/items/{item_code}/versions",
    summary="版本历史 Version history",
    response_model=list[VersionSchema],
    responses=problem_responses(Unauthorized, Forbidden, VersionNotFound),
)
async def history(item_code: ItemCodePath, session: Session, _staff: Staff) -> list[VersionSchema]:
    """Every version of an entry, oldest first (staff only: drafts are not public)."""
    return [await _version(session, v) for v in await service.history(session, item_code)]


@router.get(
    "/items/{item_code}/versions/{version}",
    summary="版本详情 Get a version",
    response_model=VersionSchema,
    responses=problem_responses(Unauthorized, Forbidden, VersionNotFound),
)
async def get_version(
    item_code: ItemCodePath, version: VersionPath, session: Session, _staff: Staff
) -> VersionSchema:
    """One version with its seven classification dimensions (staff only)."""
    return await _version(session, await service.get_version(session, item_code, version))


@router.put(
    "/items/{item_code}/versions/{version}",
    summary="编辑草稿 Edit a draft",
    response_model=VersionSchema,
    responses=problem_responses(*_WRITE, EntryNotFound, InvalidItemCode),
)
async def update_draft(
    item_code: ItemCodePath,
    version: VersionPath,
    body: ImplementationContent,
    session: Session,
    principal: Staff,
) -> VersionSchema:
    """Replace a draft's content (owner only)."""
    return await _version(session, await service.update_draft(session, item_code, version, body, principal))


@router.post(
    "/items/{item_code}/versions/{version}/submit",
    summary="提交审核 Submit",
    response_model=VersionSchema,
    responses=problem_responses(*_WRITE),
)
async def submit(
    item_code: ItemCodePath, version: VersionPath, session: Session, principal: Staff
) -> VersionSchema:
    """The owner submits a draft to the centre."""
    return await _version(session, await service.submit(session, item_code, version, principal))


@router.post(
    "/items/{item_code}/versions/{version}/approve",
    summary="审核通过 Approve",
    response_model=VersionSchema,
    responses=problem_responses(*_WRITE),
)
async def approve(
    item_code: ItemCodePath, version: VersionPath, session: Session, principal: Staff
) -> VersionSchema:
    """The centre approves a submitted version."""
    return await _version(session, await service.approve(session, item_code, version, principal))


@router.post(
    "/items/{item_code}/versions/{version}/return",
    summary="退回修改 Send back",
    response_model=VersionSchema,
    responses=problem_responses(*_WRITE),
)
async def send_back(
    item_code: ItemCodePath, version: VersionPath, body: VersionTransition, session: Session, principal: Staff
) -> VersionSchema:
    """The centre returns a version to its owner as a draft, with the reason."""
    return await _version(session, await service.send_back(session, item_code, version, body.note, principal))


@router.post(
    "/items/{item_code}/versions/{version}/publish",
    summary="发布 Publish",
    response_model=VersionSchema,
    responses=problem_responses(*_WRITE, ItemVersionConflict),
)
async def publish(
    item_code: ItemCodePath, version: VersionPath, request: Request, session: Session, principal: Staff
) -> VersionSchema:
    """The centre puts an approved version in force; the previous one is superseded."""
    source = request.app.state.runtime.source
    return await _version(
        session, await service.publish(session, item_code, version, principal, source=source)
    )


@router.post(
    "/items/{item_code}/versions/{version}/withdraw",
    summary="撤销 Withdraw",
    response_model=VersionSchema,
    responses=problem_responses(*_WRITE),
)
async def withdraw(
    item_code: ItemCodePath,
    version: VersionPath,
    body: VersionTransition,
    request: Request,
    session: Session,
    principal: Staff,
) -> VersionSchema:
    """The centre takes the version in force out of force."""
    source = request.app.state.runtime.source
    withdrawn = await service.withdraw(session, item_code, version, body.note, principal, source=source)
    return await _version(session, withdrawn)


@router.get(
    "/items/{item_code}/diff",
    summary="版本比较 Compare two versions",
    response_model=VersionDiff,
    responses=problem_responses(Unauthorized, Forbidden, VersionNotFound),
)
async def diff(
    item_code: ItemCodePath,
    session: Session,
    _staff: Staff,
    from_version: Annotated[int, Query(alias="from", ge=1, le=1_000_000)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=1_000_000)],
) -> VersionDiff:
    """The elements that differ between two versions, as JSON pointers with before and after."""
    return await service.diff(session, item_code, from_version, to_version)


# --- spreadsheets (导入导出) -------------------------------------------------------------------

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
#: What an import reads: the template's formats, and the older Excel workbook lists are still
#: kept in (.xls, read by the same calamine reader as .xlsx).
IMPORT_FORMATS = frozenset({*MEDIA, "xls"})
IMPORT_FORMATS_TEXT = "只接受 .xlsx、.xls 或 .csv 文件"
#: Largest spreadsheet accepted (100,000 rows of a real list stay well below it).
MAX_IMPORT_BYTES = 64 * 1024 * 1024
Format = Annotated[str, Path(pattern="^(xlsx|csv)$", description="xlsx / csv")]


def _file(data: bytes, name: str, file_format: str) -> Response:
    disposition = f"attachment; filename*=UTF-8''{name}.{file_format}"
    return Response(data, media_type=MEDIA[file_format], headers={"Content-Disposition": disposition})


@router.get(
    "/template.{file_format}",
    summary="导入模板 Blank template",
    response_class=Response,
    responses=problem_responses(),
)
async def template(file_format: Format, session: Session, example: bool = False) -> Response:
    """The import template (column names are the GB/T 39046 element names); ``example=true`` adds the demo permit."""
    rows = list(await imports.export_rows(session))[:1] if example else []
    writer = spreadsheet.write_xlsx if file_format == "xlsx" else spreadsheet.write_csv
    return _file(writer(rows), "%E5%AE%9E%E6%96%BD%E6%B8%85%E5%8D%95%E6%A8%A1%E6%9D%BF", file_format)


@router.get(
    "/export.{file_format}",
    summary="导出实施清单 Export the catalogue in force",
    response_class=Response,
    responses=problem_responses(),
)
async def export(file_format: Format, session: Session) -> Response:
    """Every version in force, in the template's layout (re-importing it changes nothing)."""
    writer = spreadsheet.write_xlsx if file_format == "xlsx" else spreadsheet.write_csv
    return _file(writer(await imports.export_rows(session)), "catalogue", file_format)


async def _job(session: AsyncSession, job: CatalogueImport) -> ImportJob:
    """The job resource with the first page of its errors."""
    errors, _total = await imports.import_errors_of(session, job.id, page=1, limit=FIRST_ERRORS)
    return job_resource(job, errors)


def job_resource(job: CatalogueImport, errors: Sequence[CatalogueImportError]) -> ImportJob:
    """An import job as the API shows it."""
    values = {name: getattr(job, name) for name in ImportJob.model_fields if hasattr(job, name)}
    return ImportJob.model_validate(
        values
        | {
            "id": str(job.id),
            "status_name": IMPORT_STATUS_NAMES.get(job.status, job.status),
            "phase_name": PHASE_NAMES.get(job.phase, job.phase),
            "finished": job.status in IMPORT_FINISHED,
            "errors": [_error(e) for e in errors],
        }
    )


def _error(error: CatalogueImportError) -> ImportError_:
    return ImportError_(sheet=error.sheet, row=error.row, column=error.column, reason=error.reason)


#: Errors carried by the job resource itself; the rest are paged under ``…/errors``.
FIRST_ERRORS = 100
_JOB_EXAMPLE = {
    "id": "0f5c8c9e-3b2a-4f7e-9a51-6f1d2c3b4a59",
    "filename": "实施清单.xlsx",
    "status": "running",
    "status_name": "正在导入",
    "phase": "importing",
    "processed_rows": 4000,
    "write_rows": 100000,
}


@router.post(
    "/imports",
    summary="导入实施清单 Import a spreadsheet (in the background)",
    response_model=ImportJob,
    status_code=202,
    responses={
        202: {
            "description": "已受理：文件已保存，导入任务在后台运行；Location 为任务地址，轮询查看进度",
            "headers": {
                "Location": {"description": "导入任务 …/catalogue/imports/{id}", "schema": {"type": "string"}}
            },
            "content": {
                "application/json": {"example": _JOB_EXAMPLE | {"status": "queued", "processed_rows": 0}}
            },
        },
        **problem_responses(Unauthorized, Forbidden, ValidationFailed, PayloadTooLarge),
    },
)
async def import_file(
    request: Request,
    response: Response,
    session: Session,
    principal: Staff,
    filename: Annotated[Filename, Query(description="文件名, .xlsx、.xls 或 .csv")],
    force: Annotated[bool, Query(description="有错误时仍导入其余有效行")] = False,
    publish: Annotated[bool, Query(description="中心导入时直接审核并发布")] = False,
) -> ImportJob:
    """The file is the request body (xlsx, xls or CSV, by the filename's extension). It is stored and
    a job validates and imports it in the background; errors name row, column and reason."""
    file_format = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if file_format not in IMPORT_FORMATS:
        raise ValidationFailed(IMPORT_FORMATS_TEXT)
    data = await request.body()
    if not data:
        raise ValidationFailed("文件为空")
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"文件最大 {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    job = await imports.submit_import(
        session,
        filename=filename,
        file_format=file_format,
        data=data,
        principal=principal,
        force=force,
        publish=publish,
    )
    request.app.state.import_worker.notify_after_commit(session)
    response.headers["Location"] = str(request.url_for("get_import", job_id=str(job.id)).path)
    return job_resource(job, [])


@router.get(
    "/imports/{job_id}",
    summary="导入任务状态 Import job",
    response_model=ImportJob,
    responses={
        200: {"content": {"application/json": {"example": _JOB_EXAMPLE}}},
        **problem_responses(Unauthorized, VersionNotFound),
    },
)
async def get_import(job_id: uuid.UUID, session: Session, principal: Staff) -> ImportJob:
    """Status, phase, rows total / processed / valid / with errors, the counts, the first 100 errors."""
    return await _job(session, await imports.get_import(session, job_id, principal))


@router.get(
    "/imports/{job_id}/errors",
    summary="导入错误 Row errors of an import (paged)",
    response_model=ListResource[ImportError_],
    responses=problem_responses(Unauthorized, VersionNotFound),
)
async def import_errors(
    job_id: uuid.UUID, session: Session, principal: Staff, pages: PageQuery
) -> ListResource[ImportError_]:
    """Every error with sheet, row, column and reason, by sheet and row."""
    errors, total = await imports.import_errors(
        session, job_id, principal, page=pages.page, limit=pages.limit
    )
    return pages.wrap([_error(e) for e in errors], total)
