"""REST API of workflow definitions: ``/api/v1/workflows``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.auth import AdminPrincipal, StaffPrincipal
from yiwang_business.workflow.bpmn import bpmn_body, parse_bpmn
from yiwang_business.workflow.diagram import render_svg
from yiwang_business.workflow.errors import (
    InvalidBpmn,
    InvalidWorkflow,
    VersionNotDraft,
    VersionNotFound,
    WorkflowEditConflict,
)
from yiwang_business.workflow.schemas import (
    ITEM_CODE_PATTERN,
    STATUS_NAMES,
    ProcessVersionList,
    ProcessVersionSchema,
    WorkflowBody,
    WorkflowDefinitionSchema,
    WorkflowList,
)
from yiwang_business.workflow.service import workflow_service
from yiwang_common.db import get_session
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import PageQuery

router = APIRouter(prefix="/workflows", tags=["workflows"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
ItemCode = Annotated[str, Path(pattern=ITEM_CODE_PATTERN, description="实施编码, or * for the default")]


@router.get(
    "",
    summary="流程定义列表 List workflow definitions",
    response_model=WorkflowList,
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_workflows(session: Session, principal: StaffPrincipal, page: PageQuery) -> WorkflowList:
    """List the stored workflow definitions; the built-in default leads while none is stored for ``*``."""
    return await workflow_service.list(session, page=page)


@router.get(
    "/{item_code}",
    summary="事项流程定义 Get an item's workflow",
    response_model=WorkflowDefinitionSchema,
    responses=problem_responses(Unauthorized, Forbidden),
)
async def get_workflow(
    session: Session, principal: StaffPrincipal, item_code: ItemCode
) -> WorkflowDefinitionSchema:
    """Return the workflow an item's cases follow: its own, else the default (``*``)."""
    return await workflow_service.effective(session, item_code=item_code)


@router.put(
    "/{item_code}",
    summary="设置流程定义 Set an item's workflow",
    response_model=WorkflowDefinitionSchema,
    responses=problem_responses(Unauthorized, Forbidden, InvalidWorkflow, WorkflowEditConflict),
)
async def put_workflow(
    session: Session, principal: AdminPrincipal, item_code: ItemCode, body: WorkflowBody
) -> WorkflowDefinitionSchema:
    """Create and publish a new version of an item's workflow at once (draft and publish in one step).

    Cases already accepted keep the version they started with.
    """
    return await workflow_service.put(session, item_code=item_code, body=body, actor=principal.name)


Version = Annotated[int, Path(ge=1, le=100000, description="版本号")]
BPMN_EXAMPLE = (
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:flowable="http://flowable.org/bpmn" targetNamespace="yiwang"><process id="permit">'
    '<startEvent id="start_1"/><userTask id="review" name="审查" flowable:candidateGroups="reviewer"/>'
    '<userTask id="decide" name="决定" flowable:candidateGroups="approver"/><endEvent id="end_1"/>'
    '<sequenceFlow id="f1" sourceRef="start_1" targetRef="review"/>'
    '<sequenceFlow id="f2" sourceRef="review" targetRef="decide"/>'
    '<sequenceFlow id="f3" sourceRef="decide" targetRef="end_1"/></process></definitions>'
)


@router.get(
    "/{item_code}/versions",
    summary="流程定义版本列表 List an item's process versions",
    response_model=ProcessVersionList,
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_versions(
    session: Session, principal: StaffPrincipal, item_code: ItemCode
) -> ProcessVersionList:
    """Every version of the item's process — drafts, the published one, superseded ones — newest first."""
    return await workflow_service.versions(session, item_code=item_code)


@router.post(
    "/{item_code}/versions",
    status_code=201,
    summary="新建草稿 Create a draft version",
    response_model=ProcessVersionSchema,
    responses=problem_responses(Unauthorized, Forbidden, InvalidWorkflow, WorkflowEditConflict),
)
async def create_version(
    session: Session, principal: AdminPrincipal, item_code: ItemCode, body: WorkflowBody
) -> ProcessVersionSchema:
    """Store a draft (草稿) of the item's process; it runs nothing until it is published."""
    return await workflow_service.create_draft(session, item_code=item_code, body=body, actor=principal.name)


@router.post(
    "/{item_code}/versions/bpmn",
    status_code=201,
    summary="导入 BPMN 2.0 Import a BPMN 2.0 model as a draft",
    response_model=ProcessVersionSchema,
    responses=problem_responses(Unauthorized, Forbidden, InvalidBpmn, InvalidWorkflow, WorkflowEditConflict),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "example": BPMN_EXAMPLE}}},
        }
    },
)
async def import_bpmn(
    request: Request, session: Session, principal: AdminPrincipal, item_code: ItemCode
) -> ProcessVersionSchema:
    """Import an Activiti/Flowable model (userTask, exclusive/parallel gateways, conditions, boundary timers).

    What the model does not say (decision document prefix, licence) is taken from the item's current
    definition. Unsupported elements are refused with their element id and the reason.
    """
    imported = parse_bpmn(await request.body())
    current = await workflow_service.effective(session, item_code=item_code)
    base = current.model_dump(include=set(WorkflowBody.model_fields) - {"steps", "gateways", "flows"})
    body = bpmn_body(base, imported)
    return await workflow_service.create_draft(
        session, item_code=item_code, body=body, actor=principal.name, source="bpmn"
    )


@router.get(
    "/{item_code}/versions/{version}",
    summary="流程定义版本 Get a version",
    response_model=ProcessVersionSchema,
    responses=problem_responses(Unauthorized, Forbidden, VersionNotFound),
)
async def get_version(
    session: Session, principal: StaffPrincipal, item_code: ItemCode, version: Version
) -> ProcessVersionSchema:
    """One version of the item's process."""
    return await workflow_service.version(session, item_code=item_code, version=version)


@router.put(
    "/{item_code}/versions/{version}",
    summary="修改草稿 Edit a draft",
    response_model=ProcessVersionSchema,
    responses=problem_responses(Unauthorized, Forbidden, VersionNotFound, VersionNotDraft, InvalidWorkflow),
)
async def put_version(
    session: Session, principal: AdminPrincipal, item_code: ItemCode, version: Version, body: WorkflowBody
) -> ProcessVersionSchema:
    """Replace a draft's definition; published and superseded versions never change."""
    return await workflow_service.update_draft(session, item_code=item_code, version=version, body=body)


@router.post(
    "/{item_code}/versions/{version}/publish",
    summary="发布 Publish a draft",
    response_model=ProcessVersionSchema,
    responses=problem_responses(
        Unauthorized, Forbidden, VersionNotFound, VersionNotDraft, InvalidWorkflow, WorkflowEditConflict
    ),
)
async def publish_version(
    session: Session, principal: AdminPrincipal, item_code: ItemCode, version: Version
) -> ProcessVersionSchema:
    """Publish a draft: cases accepted from now on follow it; running cases keep theirs until migrated."""
    return await workflow_service.publish(session, item_code=item_code, version=version)


@router.get(
    "/{item_code}/versions/{version}/diagram.svg",
    summary="流程图 Diagram of a version (SVG)",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}, "description": "SVG"},
        **problem_responses(Unauthorized, Forbidden, VersionNotFound),
    },
)
async def version_diagram(
    session: Session, principal: StaffPrincipal, item_code: ItemCode, version: Version
) -> Response:
    """The version drawn as SVG on the server: steps, gateways, flows and their conditions."""
    row = await workflow_service.version(session, item_code=item_code, version=version)
    title = f"{item_code} 流程定义 v{row.version}（{STATUS_NAMES[row.status]}）"
    return Response(render_svg(row.definition, title=title), media_type="image/svg+xml")
