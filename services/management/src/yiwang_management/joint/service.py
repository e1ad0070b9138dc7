"""联办 Joint cases across departments, and the plug-in contract's server side (ADR 0112).

The window collects the materials once and opens a joint case: a master row in ``case_file``
(accepted at once) and one part per department, each dispatched at the same moment to the system
its item is configured for — the built-in workflow (business, through
``yiwang.management.joint_part.dispatched.v1``) or a registered external system (which pulls the
same payload over REST). Every part runs a step clock on the master case, so the supervision sweep
warns about a part whose department (or system) lets its own limit run. The parts' results are
applied one at a time under the master row's lock; the last one writes the combined result.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import covers, region_of, region_prefix, scope_of
from yiwang_common.auth import ROLE_ADMIN, ROLE_SUPERVISOR, Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.common import Applicant, DecisionDocument, ELicence, Organisation, StepRecord
from yiwang_common.contracts.management import (
    JointCaseCompleted,
    JointCaseOpened,
    JointPartChanged,
    JointPartDispatched,
    JointPartOutcome,
    JointPartSummary,
    JointPartSupplemented,
)
from yiwang_common.contracts.plugin import (
    Dispatch,
    DispatchList,
    PartState,
    ResultReport,
    StepReport,
    SupplementRequest,
    TokenRequest,
    TokenResponse,
)
from yiwang_common.db.types import utcnow
from yiwang_common.events import enqueue
from yiwang_management.case import documents as case_documents
from yiwang_management.case.models import ACCEPTED, COMPLETED, Case, CaseStep
from yiwang_management.case.notices import case_number
from yiwang_management.case.service import audit_notice_read
from yiwang_management.config import SupervisionSettings
from yiwang_management.db import messaging
from yiwang_management.item.models import ITEM_IN_FORCE, Item
from yiwang_management.item.repository import ItemRepository
from yiwang_management.joint import documents, events
from yiwang_management.joint.errors import (
    BadClientCredentials,
    HandlerInvalid,
    ItemNotFound,
    JointCaseInvalid,
    JointCaseNotFound,
    PartConflict,
    PartNotAwaitingSupplement,
    PartNotFound,
    ResultInvalid,
    SupplementInvalid,
    SystemNotFound,
)
from yiwang_management.joint.models import BUILTIN, EXTERNAL, ExternalSystem, ItemHandler, JointPart
from yiwang_management.joint.repository import HandlerRepository, JointRepository, SystemRepository
from yiwang_management.joint.schemas import (
    HandlerConfig,
    JointCaseCreate,
    JointCaseView,
    JointCorrection,
    JointPartView,
    JointSupplement,
    SystemCreate,
)
from yiwang_management.organisation.repository import DepartmentRepository
from yiwang_management.shared import local_date, window_of
from yiwang_management.supervision import deadlines
from yiwang_management.supervision.repository import DeadlineRepository

log = logging.getLogger(__name__)

#: The item code of a joint case's master row (its parts carry the departments' items).
JOINT_ITEM_CODE = "JOINT"
#: Lifetime of an external system's token.
TOKEN_TTL_SECONDS = 900
#: At most this many dispatches per pull.
PULL_LIMIT = 50
OPEN = ("dispatched", "in_progress", "awaiting_supplement")
DECIDED = ("approved", "refused")

# The same argon2id cost as account passwords (ADR 0103).
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)


def is_part_no(case_no: str) -> bool:
    """Tell a part number (办件编号 + ``P`` + two digits) from a case number without a query."""
    return len(case_no) == 24 and case_no[21] == "P" and case_no[22:].isdigit()


def token_hash(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- external systems -------------------------------------------------------------------------


async def register_system(
    session: AsyncSession, body: SystemCreate, *, actor: Principal
) -> tuple[ExternalSystem, str]:
    """登记 Register a department's system; returns it with its client secret (shown once)."""
    secret = secrets.token_urlsafe(32)
    system = ExternalSystem(
        system_id="sys-" + uuid.uuid4().hex[:16],
        name=body.name,
        department_code=body.department_code,
        department_name=body.department_name,
        client_id="cli-" + uuid.uuid4().hex,
        secret_hash=await asyncio.to_thread(HASHER.hash, secret),
        active=True,
        created_at=utcnow(),
        created_by=principal_id(actor),
    )
    await SystemRepository.from_session(session).create(system, flush=True)
    return system, secret


def principal_id(principal: Principal) -> str:
    return principal.sub[:64]


async def list_systems(session: AsyncSession) -> list[ExternalSystem]:
    """Every registered system."""
    return list(await SystemRepository.from_session(session).list_all())


async def issue_token(session: AsyncSession, body: TokenRequest) -> TokenResponse:
    """Exchange client credentials for a short-lived token scoped to the system's department."""
    repository = SystemRepository.from_session(session)
    system = await repository.by_client_id(body.client_id)
    stored = system.secret_hash if system is not None else _DUMMY_HASH
    try:
        valid: bool = await asyncio.to_thread(HASHER.verify, stored, body.client_secret)
    except (VerificationError, InvalidHashError):
        valid = False
    if system is None or not valid or not system.active:
        raise BadClientCredentials("client_id 或 client_secret 不正确")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    await repository.add_token(
        token_hash(token), system.system_id, now + timedelta(seconds=TOKEN_TTL_SECONDS), now
    )
    return TokenResponse(
        access_token=token,
        expires_in=TOKEN_TTL_SECONDS,
        system_id=system.system_id,
        department_code=system.department_code,
    )


# Verified against when the client id is unknown, so both failures cost the same.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


async def authenticate(session: AsyncSession, token: str) -> ExternalSystem | None:
    """The active system a bearer token belongs to, or None."""
    return await SystemRepository.from_session(session).by_token(token_hash(token), utcnow())


async def set_handler(
    session: AsyncSession, item_code: str, body: HandlerConfig, *, actor: Principal
) -> ItemHandler:
    """配置 Which system handles an item; an external one must be of the item's department."""
    item = await ItemRepository(session).get(item_code)
    if item is None:
        raise ItemNotFound(f"事项 {item_code} 不存在")
    if body.handler == EXTERNAL:
        system = (
            await SystemRepository.from_session(session).get_by_id(body.system_id) if body.system_id else None
        )
        if system is None:
            raise SystemNotFound(f"外部系统 {body.system_id} 不存在")
        if system.department_code != item.org_code:
            raise HandlerInvalid(f"外部系统属于 {system.department_name}，不能办理 {item.org_name} 的事项")
    elif body.system_id is not None:
        raise HandlerInvalid("内置流程不需要 system_id")
    values = {
        "item_code": item_code,
        "handler": body.handler,
        "system_id": body.system_id if body.handler == EXTERNAL else None,
        "updated_at": utcnow(),
        "updated_by": principal_id(actor),
    }
    repository = HandlerRepository.from_session(session)
    await repository.put(values)
    return ItemHandler(**values)


# --- joint cases ------------------------------------------------------------------------------


async def open_joint_case(
    session: AsyncSession,
    body: JointCaseCreate,
    *,
    principal: Principal,
    calendar: WorkingDayCalendar,
    region_code: str,
    source: str,
    supervision: SupervisionSettings = deadlines.DEFAULTS,
) -> JointCaseView:
    """收件一次, 同时分派: open the joint case and dispatch every part at the same moment."""
    items = []
    item_repository = ItemRepository(session)
    for code in body.item_codes:
        item = await item_repository.get(code)
        if item is None or item.status != ITEM_IN_FORCE:
            raise ItemNotFound(f"事项 {code} 不存在或已取消")
        items.append(item)
    if len({i.org_code for i in items}) != len(items):
        raise JointCaseInvalid("联办件的每个事项须属于不同部门")
    handlers = await HandlerRepository.from_session(session).for_items(body.item_codes)
    systems = {s.system_id: s for s in await SystemRepository.from_session(session).list_all()}
    repository = JointRepository.from_session(session)
    now = utcnow()
    today = local_date(now)
    region = (principal.region or region_code)[:6]
    joint_no = case_number(region, today, await repository.next_number(region, today))
    dues = [calendar.add_working_days(today, i.promised_limit_days) for i in items]
    window = await _window(session, principal, items)
    master = Case(
        case_no=joint_no,
        application_id=uuid.uuid4(),
        item_code=JOINT_ITEM_CODE,
        item_name=body.theme_name,
        org_code=window.code,
        org_name=window.name,
        applicant_id=body.applicant.account_id,
        applicant=body.applicant.model_dump(mode="json"),
        channel="window",
        form=body.form,
        materials=[m.model_dump(mode="json") for m in body.materials],
        required_materials=[],
        statutory_limit_days=max(i.statutory_limit_days for i in items),
        promised_limit_days=max(i.promised_limit_days for i in items),
        missing_materials=[],
        status=ACCEPTED,
        submitted_at=now,
        registered_at=now,
        acceptance_notice_no=f"{joint_no}-联办受理",
        accepted_at=now,
        clock_start=today,
        due_date=max(dues),
        statutory_due_date=max(dues),
    )
    session.add(master)
    await session.flush()
    accept = StepRecord(
        step_key="joint_accept",
        step_name="联办受理 (收件一次)",
        action="pass",
        handler_id=principal_id(principal),
        handler_name=principal.name,
        opinion=f"分派 {len(items)} 个部门同时办理",
        started_at=now,
        ended_at=now,
        org=window,
    )
    await repository.insert_step(joint_no, accept)
    # The joint case's own clock (the longest part's limit); each part runs a step clock of its own.
    await deadlines.open_clock(
        session,
        case_no=joint_no,
        item_code=JOINT_ITEM_CODE,
        org_code=window.code,
        channel="window",
        window=window_of(principal),
        clock_start=today,
        promised_limit_days=max(i.promised_limit_days for i in items),
        statutory_limit_days=max(i.statutory_limit_days for i in items),
        calendar=calendar,
        defaults=supervision,
        by=principal_id(principal),
    )
    clocks = DeadlineRepository.from_session(session)
    envelopes = []
    summaries = []
    for seq, (item, due) in enumerate(zip(items, dues, strict=True), start=1):
        config = handlers.get(item.item_code)
        handler = config.handler if config is not None else BUILTIN
        system = systems.get(config.system_id) if config is not None and config.system_id else None
        part_no = f"{joint_no}P{seq:02d}"
        payload = JointPartDispatched(
            joint_no=joint_no,
            part_no=part_no,
            application_id=uuid.uuid5(uuid.NAMESPACE_URL, f"urn:yiwang:joint-part:{part_no}"),
            item_code=item.item_code,
            item_name=item.name,
            department=Organisation(name=item.org_name, code=item.org_code),
            handler="external" if handler == EXTERNAL else "builtin",
            system_id=system.system_id if system else None,
            applicant=body.applicant,
            form=body.form,
            materials=body.materials,
            accepted_at=now,
            limit_days=item.promised_limit_days,
            due_date=due,
        )
        session.add(
            JointPart(
                part_no=part_no,
                joint_no=joint_no,
                seq=seq,
                item_code=item.item_code,
                item_name=item.name,
                org_code=item.org_code,
                org_name=item.org_name,
                handler=handler,
                system_id=system.system_id if system else None,
                status="dispatched",
                limit_days=item.promised_limit_days,
                due_date=due,
                dispatched_at=now,
                # The built-in workflow takes its part from the bus; only external systems acknowledge.
                acked_at=now if handler == BUILTIN else None,
                deliveries=0,
                payload=payload.model_dump(mode="json"),
                steps=0,
                pauses=[],
                paused_days=0,
            )
        )
        await clocks.start_step_clock(
            {
                "case_no": joint_no,
                "step_key": part_no,
                "step_name": _waiting_on(item.org_name, system)[:100],
                "item_code": item.item_code,
                "org_code": item.org_code,
                "region_code": joint_no[:6],
                "started_at": now,
                "due_date": due,
                "warn_date": max(
                    today, calendar.subtract_working_days(due, deadlines.DEFAULTS.step_warn_days)
                ),
                "warned_level": 0,
            }
        )
        envelopes.append(events.dispatched_event(payload, source=source))
        summaries.append(
            JointPartSummary(
                part_no=part_no,
                item_code=item.item_code,
                item_name=item.name,
                department=payload.department,
                limit_days=item.promised_limit_days,
                due_date=due,
            )
        )
    opened = JointCaseOpened(
        joint_no=joint_no,
        application_id=master.application_id,
        theme_name=body.theme_name,
        applicant=body.applicant,
        window=window,
        form=body.form,
        materials=body.materials,
        accepted_at=now,
        due_date=max(dues),
        parts=summaries,
    )
    await enqueue(session, messaging.outbox, events.opened_event(opened, source=source), *envelopes)
    await session.flush()
    view = await joint_view(session, joint_no)
    assert view is not None
    return view


async def _window(session: AsyncSession, principal: Principal, items: list[Item]) -> Organisation:
    """The unit whose window opened the case: the caller's, named from the organisation tables."""
    code = principal.org_code or items[0].org_code
    named = {i.org_code: i.org_name for i in items}
    if code not in named:
        department = await DepartmentRepository.from_session(session).get_by_id(code)
        named[code] = department.name if department is not None else "政务服务窗口"
    return Organisation(name=named[code], code=code)


def _waiting_on(org_name: str, system: ExternalSystem | None) -> str:
    return f"联办·{org_name}·" + (f"外部系统 {system.name}" if system is not None else "内置流程")


async def joint_view(
    session: AsyncSession, joint_no: str, *, principal: Principal | None = None
) -> JointCaseView | None:
    """The joint case with its parts; with ``principal``, only if they may read it (applicant or staff)."""
    repository = JointRepository.from_session(session)
    case = await repository.case(joint_no)
    if case is None or case.item_code != JOINT_ITEM_CODE:
        return None
    parts = list(await repository.parts(joint_no))
    if principal is not None and not _may_read(principal, case, parts):
        return None
    systems = {s.system_id: s for s in await SystemRepository.from_session(session).list_all()}
    assert case.accepted_at is not None and case.due_date is not None
    return JointCaseView(
        joint_no=case.case_no,
        theme_name=case.item_name,
        applicant_id=case.applicant_id,
        status=case.status,
        outcome=case.outcome,
        notice_text=(case.decision or {}).get("notice_text"),
        accepted_at=case.accepted_at,
        due_date=case.due_date,
        completed_at=case.completed_at,
        parts=[_part_view(p, systems.get(p.system_id) if p.system_id else None) for p in parts],
    )


async def notice_pdf(
    session: AsyncSession,
    joint_no: str,
    *,
    principal: Principal,
    reason: str | None,
    progress_url: str,
    font: Path,
    source: str,
) -> tuple[str, bytes]:
    """联办结果告知书 (with the 联办不予许可告知 when a part was refused) as a PDF; (filename, bytes).

    The same readers as :func:`joint_view` and an agent acting for the applicant, deny by default;
    an administrator gives a reason and the read is audited, as for the other notices.

    Raises:
        ReasonRequired: an administrator gave no reason.
        JointCaseNotFound: no such joint case for the caller, or not completed yet.
    """
    scope = scope_of(principal, reason=reason)
    repository = JointRepository.from_session(session)
    case = await repository.case(joint_no)
    parts = list(await repository.parts(joint_no)) if case is not None else []
    # An agent (经办人) acting for the applicant unit prints it as for the unit's other notices; the
    # portal checks the agent's 查看 authority before it asks.
    agent = not principal.is_staff and principal.acting_for is not None
    if (
        case is None
        or case.item_code != JOINT_ITEM_CODE
        or not (_may_read(principal, case, parts) or (agent and principal.acting_for == case.applicant_id))
    ):
        raise JointCaseNotFound(f"联办件 {joint_no} 不存在")
    if case.status != COMPLETED or not case.decision or case.completed_at is None:
        raise JointCaseNotFound(f"联办件 {joint_no} 尚未办结，没有联办结果告知书")
    doc = documents.notice_print(case, parts, progress_url)
    if scope.reason is not None:
        await audit_notice_read(session, principal, case, "joint", reason=scope.reason, source=source)
    return f"{case.case_no}-joint.pdf", case_documents.render_notice_pdf(doc, font)


def _may_read(principal: Principal, case: Case, parts: list[JointPart]) -> bool:
    """The applicant; staff of the window or of a part's department, or supervisors and admins, in the region."""
    if principal.sub == case.applicant_id:
        return True
    region = region_of(principal)
    if not principal.is_staff or region is None or not covers(region, case.case_no[:6]):
        return False
    if principal.roles & {ROLE_SUPERVISOR, ROLE_ADMIN}:
        return True
    return principal.org_code is not None and principal.org_code in {
        case.org_code,
        *(p.org_code for p in parts),
    }


def _part_view(part: JointPart, system: ExternalSystem | None) -> JointPartView:
    return JointPartView(
        part_no=part.part_no,
        item_code=part.item_code,
        item_name=part.item_name,
        department=Organisation(name=part.org_name, code=part.org_code),
        handler=part.handler,
        system_id=part.system_id,
        waiting_on=_waiting_on(part.org_name, system),
        status=part.status,
        limit_days=part.limit_days,
        due_date=part.due_date,
        clock_paused=part_clock_standing(part),
        paused_days=part.paused_days,
        dispatched_at=part.dispatched_at,
        acked_at=part.acked_at,
        deliveries=part.deliveries,
        steps=part.steps,
        supplement=part.supplement,
        outcome=part.outcome,
        reason=part.reason,
        decided_at=part.decided_at,
    )


def part_state(part: JointPart) -> PartState:
    """The part as the external system sees it."""
    return PartState(
        part_no=part.part_no,
        joint_no=part.joint_no,
        status=part.status,
        system_id=part.system_id,
        steps=part.steps,
        outcome=part.outcome,
    )


# --- the external system's side ---------------------------------------------------------------


async def hand_out(session: AsyncSession, system: ExternalSystem) -> DispatchList:
    """The system's unacknowledged dispatches (each hand-out counts; they stay until acknowledged)."""
    parts = await JointRepository.from_session(session).hand_out(system.system_id, PULL_LIMIT)
    system.last_pull_at = utcnow()
    return DispatchList(
        items=[
            Dispatch(
                part=JointPartDispatched.model_validate(p.payload),
                dispatched_at=p.dispatched_at,
                deliveries=p.deliveries,
                reason="supplemented" if (p.supplement or {}).get("supplied_at") else "new",
            )
            for p in parts
        ]
    )


async def supply_supplement(
    session: AsyncSession,
    joint_no: str,
    part_no: str,
    body: JointSupplement,
    *,
    principal: Principal,
    source: str,
) -> JointCaseView:
    """补正材料 The window hands in what a department asked for: the part goes back to its system.

    An external system's part is dispatched to it again (``reason: supplemented``); a built-in
    part's correction goes to business (``joint_part.supplemented``), ADR 0127.
    """
    case, part = await _part_for(session, joint_no, part_no, may=lambda c: _is_window(principal, c))
    await _hand_in(session, case, part, body, channel="window", by=principal, source=source)
    await session.flush()
    view = await joint_view(session, joint_no)
    assert view is not None
    return view


async def applicant_correction(
    session: AsyncSession,
    joint_no: str,
    part_no: str,
    body: JointCorrection,
    *,
    principal: Principal,
    source: str,
) -> JointCaseView:
    """补正 The applicant hands in, through the portal, what a department asked for (ADR 0127).

    Only the joint case's applicant, or an agent acting for the applicant unit (the portal checks the
    agent's 补正 authority first); anyone else is told there is no such part. The same hand-in as
    the window's: the part goes back to the system of the department that asked.
    """

    def mine(case: Case) -> bool:
        if principal.is_staff:
            return False
        return principal.sub == case.applicant_id or principal.acting_for == case.applicant_id

    case, part = await _part_for(session, joint_no, part_no, may=mine)
    await _hand_in(session, case, part, body, channel="online", by=principal, source=source)
    await session.flush()
    view = await joint_view(session, joint_no)
    assert view is not None
    return view


async def _part_for(
    session: AsyncSession, joint_no: str, part_no: str, *, may: Callable[[Case], bool]
) -> tuple[Case, JointPart]:
    """The part of the joint case, under the case's row lock, if the caller ``may`` act on the case."""
    repository = JointRepository.from_session(session)
    case = await repository.lock_case(joint_no)
    part = await repository.part(part_no, fresh=True) if case is not None else None
    if (
        case is None
        or part is None
        or case.item_code != JOINT_ITEM_CODE
        or part.joint_no != joint_no
        or not may(case)
    ):
        raise JointCaseNotFound(f"联办件 {joint_no} 没有分件 {part_no}")
    return case, part


async def _hand_in(
    session: AsyncSession,
    case: Case,
    part: JointPart,
    body: JointSupplement,
    *,
    channel: Literal["online", "window"],
    by: Principal,
    source: str,
) -> None:
    """The part's 补正 arrives: it is 办理中 again and its system gets the materials.

    Once per request: a part not (or no longer) 待补正 — decided, never asked, or already
    supplied — is refused (409), so a duplicate or stale hand-in changes nothing.
    """
    if part.status != "awaiting_supplement":
        raise PartNotAwaitingSupplement(f"联办分件 {part.part_no} 不在待补正状态（已补正或无需补正）")
    asked = set((part.supplement or {}).get("materials") or [])
    if asked and (others := sorted({m.material_code for m in body.materials} - asked)):
        raise SupplementInvalid(
            f"该部门未要求补正以下材料：{'、'.join(others)}；只能补交：{'、'.join(sorted(asked))}"
        )
    now = utcnow()
    supplied = {m.material_code: m.model_dump(mode="json") for m in body.materials}
    payload = dict(part.payload)
    kept = [m for m in payload.get("materials", []) if m.get("material_code") not in supplied]
    payload["materials"] = [*kept, *supplied.values()]
    form = body.form if isinstance(body, JointCorrection) else {}
    if form:
        payload["form"] = {**payload.get("form", {}), **form}
    part.payload = payload
    part.supplement = {
        **(part.supplement or {}),
        "supplied_at": now.isoformat(),
        "note": body.note,
        "channel": channel,
        "supplied": sorted(supplied),
    }
    part.status = "in_progress"
    if part.handler == EXTERNAL:
        # Back on the system's dispatch list until it acknowledges again.
        part.acked_at = None
    else:
        data = JointPartSupplemented(
            joint_no=part.joint_no,
            part_no=part.part_no,
            application_id=uuid.UUID(str(payload["application_id"])),
            materials=body.materials,
            form=form,
            note=body.note or "已补正材料",
            channel=channel,
            by_id=principal_id(by),
            by_name=by.name[:100],
            supplied_at=now,
        )
        await enqueue(session, messaging.outbox, events.supplemented_event(data, source=source))
    await _part_changed(session, part, source=source, note="已补正材料", application_id=case.application_id)


def _is_window(principal: Principal, case: Case) -> bool:
    region = region_of(principal)
    return (
        principal.is_staff
        and principal.org_code == case.org_code
        and region is not None
        and covers(region, case.case_no[:6])
    )


async def _own_part(session: AsyncSession, system: ExternalSystem, part_no: str) -> JointPart:
    part = await JointRepository.from_session(session).part(part_no, system_id=system.system_id)
    if part is None or part.org_code != system.department_code:
        raise PartNotFound(f"联办分件 {part_no} 不存在")
    return part


async def get_part(session: AsyncSession, system: ExternalSystem, part_no: str) -> PartState:
    """A part of the calling system."""
    return part_state(await _own_part(session, system, part_no))


async def acknowledge(
    session: AsyncSession, system: ExternalSystem, part_no: str, *, source: str
) -> PartState:
    """The system took the part over: it leaves the dispatch list (a repeated ack changes nothing)."""
    part = await _own_part(session, system, part_no)
    if part.acked_at is None:
        part.acked_at = utcnow()
        if part.status == "dispatched":
            part.status = "in_progress"
            await _part_changed(session, part, source=source)
    return part_state(part)


async def report_step(
    session: AsyncSession, system: ExternalSystem, part_no: str, body: StepReport, *, source: str
) -> PartState:
    """环节 An external system's step of its part."""
    part = await _own_part(session, system, part_no)
    if part.status in DECIDED:
        raise PartConflict(f"联办分件 {part_no} 已办结")
    step = StepRecord(
        step_key=body.step_key,
        step_name=body.step_name,
        action="pass",
        handler_id=system.system_id,
        handler_name=body.handler_name,
        opinion=body.opinion,
        started_at=body.started_at,
        ended_at=body.ended_at,
        org=Organisation(name=part.org_name, code=part.org_code),
    )
    await record_part_step(session, part, step, source=source)
    return part_state(part)


async def request_supplement(
    session: AsyncSession, system: ExternalSystem, part_no: str, body: SupplementRequest, *, source: str
) -> PartState:
    """补正 The department asks the applicant for more, through the window."""
    part = await _own_part(session, system, part_no)
    if part.status in DECIDED:
        raise PartConflict(f"联办分件 {part_no} 已办结")
    part.status = "awaiting_supplement"
    part.supplement = {
        "reason": body.reason,
        "materials": body.materials,
        "requested_at": utcnow().isoformat(),
    }
    await _part_changed(session, part, source=source, note=body.reason)
    return part_state(part)


async def builtin_supplement_requested(
    session: AsyncSession, part: JointPart, *, reason: str, at: datetime, source: str
) -> bool:
    """补正 asked by the built-in workflow (business 退回补正): the part shows 待补正.

    A replay, or a request older than the last hand-in, changes nothing. Returns whether the part
    moved (and ``joint_case.part_changed`` was written).
    """
    if part.handler != BUILTIN or part.status in DECIDED or part.status == "awaiting_supplement":
        return False
    supplied = _supplied_at(part)
    if supplied is not None and supplied >= at:
        return False
    part.status = "awaiting_supplement"
    part.supplement = {"reason": reason, "materials": [], "requested_at": at.isoformat()}
    await _part_changed(session, part, source=source, note=reason)
    return True


async def builtin_supplement_handed_in(
    session: AsyncSession, part: JointPart, *, note: str, at: datetime, source: str
) -> bool:
    """The applicant's 补正 in the built-in workflow (business resumed the clock): back to 办理中.

    Returns whether the part moved (and ``joint_case.part_changed`` was written).
    """
    if part.handler != BUILTIN or part.status != "awaiting_supplement":
        return False
    part.status = "in_progress"
    # Only the applicant corrects a case in business itself.
    part.supplement = {
        **(part.supplement or {}),
        "supplied_at": at.isoformat(),
        "note": note,
        "channel": "online",
    }
    await _part_changed(session, part, source=source, note="已补正材料")
    return True


# --- the part's step clock while business stands the part's own clock still (ADR 0127) -------


async def part_clock_paused(
    session: AsyncSession, part_no: str, *, kind: str, at: datetime, calendar: WorkingDayCalendar
) -> tuple[JointPart | None, bool]:
    """business paused a built-in part's clock (补正, 挂起, 特殊程序): the part's step clock stands still.

    Idempotent and order-free: a pause already recorded changes nothing, and one whose end arrived
    first is matched to it. Returns the part (locked under its joint case), or None, and whether
    its due date moved (a pause whose end came first is whole now).
    """
    part = await _locked_part(session, part_no)
    if part is None or part.handler != BUILTIN or part.status in DECIDED:
        return part, False
    pauses = [dict(p) for p in part.pauses or []]
    stamp = at.isoformat()
    if any(p.get("paused_at") == stamp for p in pauses):
        return part, False
    # A resumption that came before its pause: the first one after this start.
    orphans = [p for p in pauses if p.get("paused_at") is None and _at(p["resumed_at"]) > at]
    if orphans:
        min(orphans, key=lambda p: _at(p["resumed_at"]))["paused_at"] = stamp
    else:
        pauses.append({"kind": kind, "paused_at": stamp, "resumed_at": None})
    return part, await _apply_part_clock(session, part, pauses, calendar)


async def part_clock_resumed(
    session: AsyncSession, part_no: str, *, kind: str, at: datetime, calendar: WorkingDayCalendar
) -> tuple[JointPart | None, bool]:
    """business runs a built-in part's clock again: the step clock runs, its due date moves by the
    working days it stood still (the part's own calendar count, as for a case's pauses).

    Returns the part, or None, and whether its due date moved.
    """
    part = await _locked_part(session, part_no)
    if part is None or part.handler != BUILTIN or part.status in DECIDED:
        return part, False
    pauses = [dict(p) for p in part.pauses or []]
    stamp = at.isoformat()
    if any(p.get("resumed_at") == stamp for p in pauses):
        return part, False
    running = [
        p for p in pauses if p.get("resumed_at") is None and p.get("paused_at") and _at(p["paused_at"]) <= at
    ]
    if running:
        max(running, key=lambda p: _at(p["paused_at"]))["resumed_at"] = stamp
    else:
        pauses.append({"kind": kind, "paused_at": None, "resumed_at": stamp})
    return part, await _apply_part_clock(session, part, pauses, calendar)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _locked_part(session: AsyncSession, part_no: str) -> JointPart | None:
    """The part, read fresh under its joint case's row lock (its clock events are applied one at a time)."""
    repository = JointRepository.from_session(session)
    if await repository.lock_case(part_no[:21]) is None:
        return None
    return await repository.part(part_no, fresh=True)


async def _apply_part_clock(
    session: AsyncSession, part: JointPart, pauses: list[dict[str, Any]], calendar: WorkingDayCalendar
) -> bool:
    """Recompute the part's due date from its limit and every finished pause; stop or run its step clock.

    Returns whether the due date moved.
    """
    days = sum(
        calendar.working_days_between(local_date(_at(p["paused_at"])), local_date(_at(p["resumed_at"])))
        for p in pauses
        if p.get("paused_at") and p.get("resumed_at")
    )
    standing = any(p.get("paused_at") and not p.get("resumed_at") for p in pauses)
    start = local_date(part.dispatched_at)
    due = calendar.add_working_days(start, part.limit_days + days)
    moved = due != part.due_date
    part.pauses = pauses
    part.paused_days = days
    part.due_date = due
    await DeadlineRepository.from_session(session).set_step_clock(
        part.joint_no,
        part.part_no,
        due_date=due,
        warn_date=max(start, calendar.subtract_working_days(due, deadlines.DEFAULTS.step_warn_days)),
        paused=standing,
    )
    return moved


async def part_due_moved(session: AsyncSession, part: JointPart, *, source: str) -> None:
    """The part's 办结期限 moved while its status stayed: the portal shows the new date (ADR 0132)."""
    await _part_changed(session, part, source=source)


def pause_ended(part: JointPart, paused_at: datetime) -> bool:
    """Whether the pause that started at ``paused_at`` is known to have ended (its end came first)."""
    stamp = paused_at.isoformat()
    return any(p.get("paused_at") == stamp and p.get("resumed_at") for p in part.pauses or [])


def part_clock_standing(part: JointPart) -> bool:
    """Whether business has the part's clock stopped right now (a pause with no end yet)."""
    return any(p.get("paused_at") and not p.get("resumed_at") for p in part.pauses or [])


async def report_result(
    session: AsyncSession, system: ExternalSystem, part_no: str, body: ResultReport, *, source: str
) -> PartState:
    """办理结果 of an external system's part."""
    part = await _own_part(session, system, part_no)
    if body.outcome == "refused" and not body.reason:
        raise ResultInvalid("不予许可须说明理由 (reason)")
    if body.decision.org.code != part.org_code:
        raise ResultInvalid("决定书的作出单位须为本分件的办理部门")
    decided = await decide_part(
        session,
        part.part_no,
        outcome=body.outcome,
        reason=body.reason,
        decision=body.decision,
        licence=body.licence,
        source=source,
    )
    assert decided is not None
    return part_state(decided)


# --- both kinds of system ---------------------------------------------------------------------


async def record_part_step(session: AsyncSession, part: JointPart, step: StepRecord, *, source: str) -> None:
    """Write a part's step on the joint case's timeline (replays with the same key and end are skipped)."""
    keyed = step.model_copy(
        update={
            "step_key": f"{part.part_no[-3:]}:{step.step_key}"[:64],
            "step_name": f"{part.org_name}·{step.step_name}"[:100],
        }
    )
    if await JointRepository.from_session(session).insert_step(part.joint_no, keyed):
        part.steps += 1
    if part.status == "dispatched":
        part.status = "in_progress"
        await _part_changed(session, part, source=source)


async def _part_changed(
    session: AsyncSession,
    part: JointPart,
    *,
    source: str,
    note: str | None = None,
    application_id: uuid.UUID | None = None,
) -> None:
    """Tell the applicant's portal that a part moved (``joint_case.part_changed``), in this unit of work."""
    if application_id is None:
        case = await JointRepository.from_session(session).case(part.joint_no)
        if case is None:
            return
        application_id = case.application_id
    data = JointPartChanged(
        joint_no=part.joint_no,
        application_id=application_id,
        part_no=part.part_no,
        item_name=part.item_name,
        department=Organisation(name=part.org_name, code=part.org_code),
        status=part.status,
        changed_at=utcnow(),
        note=note,
        due_date=part.due_date,
    )
    await enqueue(session, messaging.outbox, events.part_changed_event(data, source=source))


async def decide_part(
    session: AsyncSession,
    part_no: str,
    *,
    outcome: str,
    reason: str | None,
    decision: DecisionDocument,
    licence: ELicence | None,
    source: str,
) -> JointPart | None:
    """A department's result; the last one completes the joint case with one combined result.

    Returns:
        The part, or None when there is no such part.
    """
    repository = JointRepository.from_session(session)
    if not is_part_no(part_no):
        return None
    # The master row's lock orders the parts' results; the part is read fresh under it.
    case = await repository.lock_case(part_no[:21])
    part = await repository.part(part_no, fresh=True) if case is not None else None
    if case is None or part is None:
        return None
    if part.status in DECIDED:
        if part.outcome != outcome:
            raise PartConflict(f"联办分件 {part_no} 已有办理结果 ({part.outcome})")
        return part
    part.status = outcome
    part.outcome = outcome
    part.reason = reason
    part.decision = decision.model_dump(mode="json")
    part.licence = licence.model_dump(mode="json") if licence else None
    part.decided_at = decision.decided_at
    if part.acked_at is None:
        part.acked_at = utcnow()
    await DeadlineRepository.from_session(session).end_step_clocks(
        part.joint_no, part.part_no, decision.decided_at
    )
    await _part_changed(session, part, source=source, note=reason, application_id=case.application_id)
    parts = list(await repository.parts(part.joint_no))
    if all(p.status in DECIDED for p in parts) and case.status != COMPLETED:
        await _complete(session, case, parts, source=source)
    return part


async def _complete(session: AsyncSession, case: Case, parts: list[JointPart], *, source: str) -> None:
    now = utcnow()
    refused = [p for p in parts if p.outcome == "refused"]
    outcome = "refused" if refused else "approved"
    applicant = Applicant.model_validate(case.applicant)
    notice = None
    if refused:
        lines = [
            f"{i}. {p.org_name}「{p.item_name}」：{p.reason or '不予许可'}"
            for i, p in enumerate(refused, start=1)
        ]
        notice = (
            f"联办不予许可告知书\n{applicant.name}：\n您申请的「{case.item_name}」联办事项（{case.case_no}）中，"
            f"以下部门决定不予许可：\n"
            + "\n".join(lines)
            + "\n其余事项已准予许可。您可依法申请行政复议或提起行政诉讼。"
        )
    outcomes = [
        JointPartOutcome(
            part_no=p.part_no,
            item_code=p.item_code,
            item_name=p.item_name,
            department=Organisation(name=p.org_name, code=p.org_code),
            outcome=p.outcome,
            reason=p.reason,
            decision=DecisionDocument.model_validate(p.decision) if p.decision else None,
            licence=ELicence.model_validate(p.licence) if p.licence else None,
        )
        for p in parts
    ]
    case.status = COMPLETED
    case.outcome = outcome
    case.completed_at = now
    case.on_time = case.due_date is not None and local_date(now) <= case.due_date
    await deadlines.close_clock(session, case.case_no, local_date(now), case.on_time, ended_at=now)
    case.decision = {
        "document_no": f"{case.case_no}-联办",
        "title": "联办结果告知书",
        "body": "\n".join(
            f"{o.department.name}「{o.item_name}」：{'准予' if o.outcome == 'approved' else '不予'}许可"
            for o in outcomes
        ),
        "decided_at": now.isoformat(),
        "decider_name": case.org_name,
        "org": {"name": case.org_name, "code": case.org_code},
        "notice_text": notice,
    }
    data = JointCaseCompleted(
        joint_no=case.case_no,
        applicant_id=case.applicant_id,
        outcome=outcome,
        parts=outcomes,
        notice_text=notice,
        completed_at=now,
        application_id=case.application_id,
        decision=DecisionDocument.model_validate(case.decision),
    )
    await enqueue(session, messaging.outbox, events.completed_event(data, source=source))


# --- the parallel view (并联视图) of the staff console -----------------------------------------

#: A system that has not pulled for this long, while a part has waited on it as long, counts as down.
SYSTEM_STALE = timedelta(minutes=10)
STATE_TEXT = {
    "dispatched": "已分派",
    "acknowledged": "已接收",
    "in_progress": "办理中",
    "awaiting_supplement": "待补正",
    "approved": "准予许可",
    "refused": "不予许可",
    "system_down": "等待中（外部系统未连接）",
}
#: The console's list shows at most this many joint cases.
LIST_LIMIT = 200


@dataclass(frozen=True)
class PartLine:
    """One part as the parallel view shows it."""

    part: JointPart
    system_name: str | None
    state: str
    light: str
    light_text: str
    last_report: str | None
    last_report_at: datetime | None

    @property
    def state_text(self) -> str:
        return STATE_TEXT[self.state]


@dataclass(frozen=True)
class ParallelView:
    """A joint case with every part, for the staff who coordinate or supervise it."""

    case: Case
    parts: list[PartLine]

    @property
    def decided(self) -> int:
        return sum(p.part.status in DECIDED for p in self.parts)


def display_state(part: JointPart, system: ExternalSystem | None, now: datetime) -> str:
    """Where a part stands: the stored status, told apart for an external system (接收, down)."""
    if part.status in DECIDED or part.status == "awaiting_supplement":
        return part.status
    if part.handler != EXTERNAL:
        return part.status
    if part.acked_at is None:
        waiting_since = _supplied_at(part) or part.dispatched_at
        seen = system.last_pull_at if system is not None and system.active else None
        stale = now - SYSTEM_STALE
        if waiting_since < stale and (seen is None or seen < stale):
            return "system_down"
        return "dispatched"
    return "acknowledged" if part.steps == 0 else "in_progress"


def _supplied_at(part: JointPart) -> datetime | None:
    supplied = (part.supplement or {}).get("supplied_at")
    return datetime.fromisoformat(supplied) if isinstance(supplied, str) else None


def due_light(part: JointPart, *, today: date, warn_from: date) -> tuple[str, str]:
    """红黄灯 of a part's own limit: red past its due date, yellow from ``warn_from``; a decided part is
    judged by the day it was decided."""
    if part.status in DECIDED and part.decided_at is not None:
        late = local_date(part.decided_at) > part.due_date
        return ("red", "超期办结") if late else ("", "按时办结")
    if part_clock_standing(part):
        # The department stopped the part's clock; its due date moves when the clock runs again.
        return "", "暂停计时"
    if today > part.due_date:
        return "red", "已超期"
    if today >= warn_from:
        return "yellow", "临近时限"
    return "", "正常"


def may_follow(principal: Principal, case: Case, parts: Sequence[JointPart]) -> bool:
    """Who may open the parallel view: the applicant never here; the same staff as the API's read."""
    return principal.is_staff and _may_read(principal, case, list(parts))


async def parallel_view(
    session: AsyncSession,
    joint_no: str,
    *,
    principal: Principal,
    calendar: WorkingDayCalendar,
    warn_days: int,
    now: datetime | None = None,
) -> ParallelView | None:
    """并联视图: every part with its system, state, own limit and light, and its last report.

    Returns:
        The view, or None when there is no such joint case or the caller may not follow it.
    """
    repository = JointRepository.from_session(session)
    case = await repository.case(joint_no)
    if case is None or case.item_code != JOINT_ITEM_CODE:
        return None
    parts = list(await repository.parts(joint_no))
    if not may_follow(principal, case, parts):
        return None
    now = now or utcnow()
    today = local_date(now)
    systems = {s.system_id: s for s in await SystemRepository.from_session(session).list_all()}
    steps = await repository.last_steps(joint_no)
    lines = []
    for part in parts:
        system = systems.get(part.system_id) if part.system_id else None
        light, light_text = due_light(
            part, today=today, warn_from=calendar.subtract_working_days(part.due_date, warn_days)
        )
        report, report_at = _last_report(part, steps.get(part.part_no[-3:]))
        lines.append(
            PartLine(
                part=part,
                system_name=system.name if system is not None else None,
                state=display_state(part, system, now),
                light=light,
                light_text=light_text,
                last_report=report,
                last_report_at=report_at,
            )
        )
    return ParallelView(case=case, parts=lines)


def _last_report(part: JointPart, step: CaseStep | None) -> tuple[str | None, datetime | None]:
    """The newest of: the last step, the 补正 request, the window's 补正 and the result."""
    found: list[tuple[datetime, str]] = []
    if step is not None:
        name = step.step_name.removeprefix(f"{part.org_name}·")
        found.append((step.ended_at, f"{name}（{step.handler_name}）：{step.opinion or '已办理'}"))
    supplement = part.supplement or {}
    if isinstance(supplement.get("requested_at"), str):
        found.append(
            (datetime.fromisoformat(supplement["requested_at"]), f"申请补正：{supplement.get('reason', '')}")
        )
    if (supplied := _supplied_at(part)) is not None:
        who = "申请人已网上补正材料" if supplement.get("channel") == "online" else "窗口已补正材料"
        found.append((supplied, f"{who}，已送达本部门" if part.handler == BUILTIN else f"{who}，重新分派"))
    if part.decided_at is not None:
        text = "准予许可" if part.outcome == "approved" else f"不予许可：{part.reason or ''}"
        found.append((part.decided_at, f"办理结果：{text}"))
    if not found:
        return None, None
    at, text = max(found, key=lambda f: f[0])
    return text, at


async def joint_case_list(
    session: AsyncSession, principal: Principal, *, open_only: bool
) -> list[tuple[Case, list[JointPart]]]:
    """联办件列表: a region's joint cases for its supervisors (and administrators); for other staff
    those their unit opened or has a part of. Nothing outside the caller's region, nothing for non-staff."""
    region = region_of(principal)
    if not principal.is_staff or region is None:
        return []
    org_code = None if principal.roles & {ROLE_SUPERVISOR, ROLE_ADMIN} else principal.org_code
    if org_code is None and not principal.roles & {ROLE_SUPERVISOR, ROLE_ADMIN}:
        return []
    repository = JointRepository.from_session(session)
    cases = await repository.joint_cases(
        region_prefix=region_prefix(region), org_code=org_code, open_only=open_only, limit=LIST_LIMIT
    )
    parts = await repository.parts_of([c.case_no for c in cases])
    return [(c, parts[c.case_no]) for c in cases]
