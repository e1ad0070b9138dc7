"""Business rules of the applicant's case view and of supplementing materials (补正)."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.contracts.common import MaterialRef
from yiwang_common.contracts.lifecycle import CaseStatus
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue
from yiwang_common.forms import form_errors
from yiwang_gateway.account.agents import Acting
from yiwang_gateway.application.errors import FormInvalid
from yiwang_gateway.application.models import Application
from yiwang_gateway.application.repository import TimelineRepository
from yiwang_gateway.application.schemas import JointPartLine
from yiwang_gateway.application.status import PART_STATUS_TEXT, STATUS_TEXT, status_text
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.db import messaging
from yiwang_gateway.material.service import material_service
from yiwang_gateway.progress.errors import (
    CaseNotAwaitingSupplement,
    CaseNotFound,
    JointPartNotAwaitingSupplement,
    JointPartNotFound,
    JointSupplementRefused,
    MaterialNotRequested,
)
from yiwang_gateway.progress.events import supplemented_event
from yiwang_gateway.progress.repository import ProgressRepository, PublicProgressRepository
from yiwang_gateway.progress.schemas import (
    CaseView,
    JointPartSupplementCreate,
    JointPartSupplementReceipt,
    PublicProgress,
    PublicTimelineLine,
    SupplementCreate,
    SupplementReceipt,
    TimelineLine,
)
from yiwang_gateway.web.guides import GuideClient

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
OUTCOME_TEXT = {"approved": "准予许可", "refused": "不予许可"}


class ProgressService:
    """办件进度 use cases."""

    async def _owned(
        self, session: AsyncSession, principal: Principal, case_no: str, *, lock: bool = False
    ) -> Application:
        # Staff use management; here only the applicant sees the case, and others get the same 404.
        app = await ProgressRepository.from_session(session).get_owned_by_case_no(
            applicant_id=principal.sub, case_no=case_no, for_update=lock
        )
        if app is None:
            raise CaseNotFound(f"办件 {case_no} 不存在")
        return app

    async def owns(self, session: AsyncSession, *, principal: Principal, case_no: str) -> bool:
        """Whether the case is the caller's (as applicant, or the company's when acting for it)."""
        repository = ProgressRepository.from_session(session)
        return await repository.get_owned_by_case_no(applicant_id=principal.sub, case_no=case_no) is not None

    async def view(self, session: AsyncSession, *, principal: Principal, case_no: str) -> CaseView:
        app = await self._owned(session, principal, case_no)
        timeline = await TimelineRepository.from_session(session).for_application(app.id)
        return CaseView.model_validate(
            {
                "case_no": case_no,
                "application_id": app.id,
                "item": {"item_code": app.item_code, "name": app.item_name},
                "status": app.status,
                "status_text": status_text(app.status, app.missing_materials),
                "submitted_at": app.submitted_at,
                "due_date": app.due_date,
                "outcome": app.outcome,
                "on_time": app.on_time,
                "result": app.result,
                "materials": app.materials,
                "missing_materials": app.missing_materials,
                "timeline": [
                    TimelineLine(at=t.at, title=t.title, detail=t.detail, data=t.data) for t in timeline
                ],
                "steps": app.steps,
                "parts": JointPartLine.from_stored(app.joint_parts),
            }
        )

    async def public(self, session: AsyncSession, *, case_no: str) -> PublicProgress:
        """办件进度公开查询: the item, status, dates and result of a case, nothing personal."""
        app = await PublicProgressRepository.from_session(session).by_case_no(case_no)
        if app is None:
            raise CaseNotFound(f"办件 {case_no} 不存在")
        timeline = await TimelineRepository.from_session(session).for_application(app.id)
        return PublicProgress(
            case_no=case_no,
            item_name=app.item_name,
            status_text=status_text(app.status, app.missing_materials),
            submitted_on=app.submitted_at.astimezone(CHINA_TZ).date(),
            due_date=app.due_date,
            outcome_text=OUTCOME_TEXT.get(app.outcome or ""),
            timeline=[PublicTimelineLine(at=t.at, title=t.title) for t in timeline],
        )

    async def supplement(
        self,
        session: AsyncSession,
        *,
        principal: Principal,
        case_no: str,
        body: SupplementCreate,
        source: str,
        acting: Acting | None = None,
    ) -> SupplementReceipt:
        app = await self._owned(session, principal, case_no, lock=True)
        if acting is not None:
            acting.check_item(app.item_code)
        # 容缺受理 (ADR 0119): an accepted case that still owes materials takes them the same way.
        owed = app.status == CaseStatus.ACCEPTED and bool(app.missing_materials)
        if app.status != CaseStatus.AWAITING_SUPPLEMENT and not owed:
            raise CaseNotAwaitingSupplement(
                f"办件当前状态为「{STATUS_TEXT[app.status]}」", case_status=app.status
            )
        asked = {m["code"] for m in app.missing_materials}
        if others := sorted({s.material_code for s in body.materials} - asked):
            what = "容缺受理未要求补齐" if owed else "补正告知未要求"
            raise MaterialNotRequested(
                f"{what}以下材料：{'、'.join(others)}；只能补交：{'、'.join(sorted(asked))}",
                not_requested=others,
                requested=sorted(asked),
            )
        item = await catalogue_service.get(session, item_code=app.item_code)
        refs = await material_service.resolve(
            session, owner_id=principal.sub, requirements=item.materials, selections=body.materials
        )
        now = utcnow()
        supplied = {r.material_code for r in refs}
        still_missing = [m for m in app.missing_materials if m["code"] not in supplied]
        changes: dict[str, Any] = {
            "materials": [*app.materials, *(r.model_dump(mode="json") for r in refs)],
            "missing_materials": still_missing,
            "updated_at": now,
        }
        # Mirrors management: once nothing the notice asked for is missing, the case waits for acceptance again.
        if not still_missing and not owed:
            changes |= {"status": CaseStatus.PENDING_ACCEPTANCE, "status_at": now}
        await ProgressRepository.from_session(session).update(app, update_dict=changes, flush=True)
        names = "、".join(dict.fromkeys(r.name for r in refs))
        await TimelineRepository.from_session(session).add(
            application_id=app.id,
            at=now,
            title="已补交容缺材料" if owed else "已补正材料",
            detail=f"已补交：{names}",
        )
        agent = acting.agent if acting else None
        await enqueue(
            session, messaging.outbox, supplemented_event(app, refs, at=now, source=source, agent=agent)
        )
        return SupplementReceipt.model_validate(
            {
                "case_no": case_no,
                "application_id": app.id,
                "status": app.status,
                "supplemented_at": now,
                "materials": refs,
                "missing_materials": still_missing,
            }
        )

    async def supplement_joint_part(
        self,
        session: AsyncSession,
        *,
        acting: Acting,
        joint_no: str,
        part_no: str,
        body: JointPartSupplementCreate,
        guides: GuideClient,
        authorization: str,
    ) -> JointPartSupplementReceipt:
        """补正 of a joint case's part whose department asked for one (ADR 0127).

        The portal checks the joint case is the caller's, the part is 待补正 here and the
        materials are the caller's and fit the part's item, then hands it to management with the
        caller's token; management checks again under the case's lock (a duplicate or stale
        hand-in is 409 there) and sends it on to the department's system.
        """
        principal = acting.principal
        app = await self._owned(session, principal, joint_no)
        part = next((p for p in app.joint_parts or [] if p.get("part_no") == part_no), None)
        if part is None:
            raise JointPartNotFound(f"联办件 {joint_no} 没有分件 {part_no}")
        department = str(part["department"]["name"])
        acting.check_item(str(part["item_code"]))
        if part["status"] != "awaiting_supplement":
            raise JointPartNotAwaitingSupplement(
                f"{department}的分件当前为「{PART_STATUS_TEXT.get(part['status'], part['status'])}」，不需要补正",
                part_status=part["status"],
            )
        refs: list[MaterialRef] = []
        if body.materials or body.form:
            item = await catalogue_service.get(session, item_code=str(part["item_code"]))
            if body.form:
                changed = set(body.form)
                errors = [
                    e
                    for e in form_errors(item.form_schema, {**app.form, **body.form})
                    if e["field"] in changed
                ]
                if errors:
                    raise FormInvalid(
                        "；".join(f"{e['title']}：{e['error']}" for e in errors[:10]), fields=errors
                    )
            refs = await material_service.resolve(
                session, owner_id=principal.sub, requirements=item.materials, selections=body.materials
            )
        upstream = await guides.joint_correction(
            joint_no,
            part_no,
            authorization,
            {
                "materials": [r.model_dump(mode="json") for r in refs],
                "form": body.form,
                "note": body.note,
            },
        )
        if upstream.status_code != 200:
            detail = _detail(upstream)
            if upstream.status_code == 404:
                raise JointPartNotFound(detail or f"联办件 {joint_no} 没有分件 {part_no}")
            if upstream.status_code == 409:
                raise JointPartNotAwaitingSupplement(detail, part_status=part["status"])
            raise JointSupplementRefused(detail or f"政务服务管理平台返回 {upstream.status_code}")
        parts = upstream.json().get("parts", [])
        status = next((str(p["status"]) for p in parts if p.get("part_no") == part_no), "in_progress")
        return JointPartSupplementReceipt(
            case_no=joint_no,
            part_no=part_no,
            department=department,
            status=status,
            supplemented_at=utcnow(),
            materials=refs,
        )


def _detail(upstream: httpx.Response) -> str:
    try:
        body = upstream.json()
    except ValueError:
        return ""
    return str(body.get("detail") or body.get("title") or "") if isinstance(body, dict) else ""


progress_service = ProgressService()
