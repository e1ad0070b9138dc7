"""Business rules of cases: registration, supplements, acceptance, notices, refusal, completion."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import covers, handling_scope, region_of, scope_of
from yiwang_common.audit import PERSONAL_DATA_READ, record_audit
from yiwang_common.auth import Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.business import CaseDecided, CaseStepCompleted
from yiwang_common.contracts.codes import CaseKind
from yiwang_common.contracts.common import MaterialRef, MissingMaterial, Organisation, StepRecord
from yiwang_common.contracts.gateway import ApplicationSubmitted, ApplicationSupplemented
from yiwang_common.contracts.lifecycle import CaseStatus, can_move
from yiwang_common.contracts.management import CaseCompleted, CaseRegistered
from yiwang_common.db import utcnow
from yiwang_common.events import RetryLater, enqueue, make_event
from yiwang_management.case import documents, events as case_events, kinds, notices
from yiwang_management.case.errors import (
    CaseNotFound,
    CaseStateConflict,
    DeferralNotAllowed,
    DeferralNotLapsed,
    DeferredMaterialInvalid,
    MaterialsMissing,
    NothingMissing,
    NothingPending,
    NoticeIncomplete,
    NoticeMaterialInvalid,
    NoticeNotIssued,
)
from yiwang_management.case.models import (
    ACCEPTED,
    AWAITING_SUPPLEMENT,
    COMPLETED,
    NOT_ACCEPTED,
    PENDING_ACCEPTANCE,
    STATUS_TEXT,
    Case,
    CaseStep,
)
from yiwang_management.case.repository import (
    AnyCase,
    CaseRecord,
    CaseRepository,
    ItemGuard,
    StepView,
    step_order,
)
from yiwang_management.case.schemas import DeferredMaterial, NoticeKind, NoticeMaterial
from yiwang_management.config import DeliverySettings, SupervisionSettings
from yiwang_management.db import messaging
from yiwang_management.delivery import service as delivery_service
from yiwang_management.item import cache as item_cache
from yiwang_management.item.cache import ItemSnapshot
from yiwang_management.payment import service as payment_service
from yiwang_management.payment.models import BEFORE_ACCEPTANCE
from yiwang_management.shared import local_date, window_of
from yiwang_management.supervision import deadlines

log = logging.getLogger(__name__)

_CHANNELS = {"online": "互联网政务服务门户", "window": "政务服务窗口", "mobile": "移动端"}


def missing_required(
    requirements: Sequence[dict[str, Any]], materials: Sequence[dict[str, Any]]
) -> list[MissingMaterial]:
    """Return every required material of the list with no material handed in for it."""
    present = {m["material_code"] for m in materials}
    return [
        MissingMaterial(code=r["code"], name=r["name"])
        for r in requirements
        if r.get("required", True) and r["code"] not in present
    ]


def _dump(materials: Sequence[MissingMaterial]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in materials]


def case_region(platform_region: str, item_region: str, *, unified: bool) -> str:
    """The region part of a 办件编号 (ADR 0004): the registering platform's.

    Under 统建 one platform registers for the province and its cities, so the region is the
    implementing unit's (the item's), when it lies inside the platform's: the cases of a city
    then carry the city's code, and region scoping (ADR 0105) tells the cities apart (ADR 0114).
    """
    code = item_region[:6]
    if unified and len(code) == 6 and code.isdigit() and covers(platform_region, code):
        return code
    return platform_region


async def register_case(
    session: AsyncSession, data: ApplicationSubmitted, *, region_code: str, source: str, unified: bool = False
) -> CaseRecord | None:
    """登记 Turn a submitted application into a case with a 办件编号; None if it already is one."""
    platform_region = region_code
    repository = CaseRepository.from_session(session)
    now = utcnow()
    day = local_date(now)
    item = item_cache.cached(data.item_code)
    sequence = None
    if item is not None:
        region_code = case_region(platform_region, item.region_code, unified=unified)
        sequence = await repository.take_sequence_for(region_code, day, data.application_id, _guard(item))
    if sequence is None:
        # No copy of the item, or the copy is stale, or the application is already a case.
        if await repository.exists_for_application(data.application_id):
            log.info("application already registered", extra={"application_id": str(data.application_id)})
            return None
        item = await item_cache.load(session, data.item_code)
        if item is None:
            # The gateway validated the item, so its publication has simply not reached us yet.
            raise RetryLater(f"item {data.item_code} is not in the catalogue yet")
        region_code = case_region(platform_region, item.region_code, unified=unified)
        sequence = await repository.take_sequence_for(region_code, day, data.application_id, _guard(item))
        if sequence is None:  # pragma: no cover - the item changed under us; the redelivery sees it
            raise RetryLater(f"item {data.item_code} changed while registering")
    assert item is not None
    case_no = notices.case_number(region_code, day, sequence)
    materials = [m.model_dump(mode="json") for m in data.materials]
    missing = missing_required(item.materials, materials)
    rules = kinds.IntakeRules.of_item(item.case_type, item.guide)
    kind = kinds.kind_at_registration(rules)
    values: dict[str, Any] = {
        "case_no": case_no,
        "application_id": data.application_id,
        "item_code": item.item_code,
        "item_name": item.name,
        "item_version": item.version,
        "org_code": item.org_code,
        "org_name": item.org_name,
        "applicant_id": data.applicant.account_id,
        "applicant": data.applicant.model_dump(mode="json"),
        "channel": data.channel,
        "form": dict(data.form),
        "materials": materials,
        "required_materials": list(item.materials),
        "statutory_limit_days": item.statutory_limit_days,
        "promised_limit_days": item.promised_limit_days,
        "missing_materials": _dump(missing),
        "status": PENDING_ACCEPTANCE,
        "submitted_at": data.submitted_at,
        "registered_at": now,
        "case_kind": kind.value,
        "intake_rules": rules.dump(),
    }
    await repository.insert_case(values)
    apply_step = StepRecord(
        step_key="apply",
        step_name="申请",
        action="pass",
        handler_id=data.applicant.account_id,
        handler_name=data.applicant.name,
        opinion=f"通过{_CHANNELS.get(data.channel, data.channel)}提交申请",
        started_at=data.submitted_at,
        ended_at=data.submitted_at,
        org=Organisation(name=item.org_name, code=item.org_code),
    )
    await repository.insert_steps(case_no, [apply_step])
    event = CaseRegistered(
        case_no=case_no,
        application_id=data.application_id,
        item_code=item.item_code,
        item_name=item.name,
        applicant=data.applicant,
        form=values["form"],
        materials=list(data.materials),
        missing_materials=missing,
        registered_at=now,
        case_kind=kind.value,
    )
    await enqueue(
        session, messaging.outbox, make_event(event, source=source, subject=case_no, correlation_id=case_no)
    )
    return CaseRecord(**values)


def _guard(item: ItemSnapshot) -> ItemGuard:
    return ItemGuard(item_code=item.item_code, version=item.version, published_at=item.published_at)


async def receive_supplement(
    session: AsyncSession,
    data: ApplicationSupplemented,
    *,
    calendar: WorkingDayCalendar | None = None,
    supervision: SupervisionSettings | None = None,
    source: str = "",
) -> Case | None:
    """补正 Add the supplemented materials; when nothing is outstanding the case awaits acceptance again.

    For a 容缺 case (已受理 with materials owed) the materials are the owed ones (ADR 0119):
    ``receive_deferred`` records them as the window would.
    """
    repository = CaseRepository.from_session(session)
    case = await repository.get(data.case_no, for_update=True)
    if (
        case is not None
        and calendar is not None
        and case.applicant_id == data.applicant_id
        and case.status == ACCEPTED
        and case.pending_materials
    ):
        return await receive_deferred(
            session, case, data, calendar=calendar, supervision=supervision, source=source
        )
    if case is None or case.applicant_id != data.applicant_id or case.status != AWAITING_SUPPLEMENT:
        log.warning(
            "supplement ignored: no such case for this applicant awaiting supplement",
            extra={"case_no": data.case_no, "status": case.status if case else None},
        )
        return None
    supplied = {m.material_code for m in data.materials}
    asked = {m["code"] for m in case.missing_materials}
    if others := sorted(supplied - asked):
        # The gateway refuses these up front; an event that still carries them (an older gateway, a
        # forged producer) changes nothing, and the refusal stays on the case's record for supervision.
        log.warning(
            "supplement refused: materials the one-time notice did not ask for",
            extra={"case_no": case.case_no, "not_requested": others, "requested": sorted(asked)},
        )
        await repository.add_steps(
            case.case_no,
            [
                StepRecord(
                    step_key="supplement_refused",
                    step_name="补正材料不予接收",
                    action="other",
                    handler_id=case.applicant_id,
                    handler_name=str(case.applicant.get("name", "")),
                    opinion=f"补正告知未要求的材料不予接收：{'、'.join(others)}",
                    started_at=data.supplemented_at,
                    ended_at=data.supplemented_at,
                    org=_org(case),
                )
            ],
        )
        return None
    kept = [m for m in case.materials if m["material_code"] not in supplied]
    case.materials = kept + [m.model_dump(mode="json") for m in data.materials]
    outstanding = [m for m in case.missing_materials if m["code"] not in supplied]
    known = {m["code"] for m in outstanding}
    outstanding += [
        m for m in _dump(missing_required(case.required_materials, case.materials)) if m["code"] not in known
    ]
    case.missing_materials = outstanding
    case.last_supplemented_at = data.supplemented_at
    if not outstanding:
        case.status = PENDING_ACCEPTANCE
        case.clock_start = local_date(data.supplemented_at)
    names = "、".join(m.name for m in data.materials)
    step = StepRecord(
        step_key="supplement",
        step_name="材料补正",
        action="pass",
        handler_id=case.applicant_id,
        handler_name=str(case.applicant.get("name", "")),
        opinion=f"补正材料：{names}",
        started_at=case.supplement_requested_at or data.supplemented_at,
        ended_at=data.supplemented_at,
        org=_org(case),
    )
    await repository.add_steps(case.case_no, [step])
    return case


async def record_business_step(
    session: AsyncSession,
    data: CaseStepCompleted,
    *,
    calendar: WorkingDayCalendar | None = None,
    supervision: SupervisionSettings | None = None,
) -> None:
    """环节 Record a step the business system finished (replays are skipped); its step clock moves on."""
    repository = CaseRepository.from_session(session)
    if await repository.add_step_if_case(data.case_no, data.step):
        if calendar is not None:
            await deadlines.record_step(
                session, data, calendar=calendar, defaults=supervision or deadlines.DEFAULTS
            )
        return
    if not await repository.exists(data.case_no):
        log.warning("step of an unknown case ignored", extra={"case_no": data.case_no})


async def complete_case(
    session: AsyncSession,
    data: CaseDecided,
    *,
    calendar: WorkingDayCalendar,
    source: str,
    delivery: DeliverySettings | None = None,
    supervision: SupervisionSettings | None = None,
) -> CaseCompleted | None:
    """办结 Record the decision, judge timeliness and publish the whole process.

    Returns:
        The completion published, or None when the decision was ignored.
    """
    repository = CaseRepository.from_session(session)
    locked = await repository.lock_for_decision(data.case_no)
    head, stored = locked if locked is not None else (None, [])
    if head is not None and head.pending_materials:
        # 容缺受理 (ADR 0111): no decision until every owed material has arrived.
        log.warning(
            "decision ignored: 容缺 materials outstanding",
            extra={"case_no": data.case_no, "pending": [m["code"] for m in head.pending_materials]},
        )
        return None
    if (
        head is None
        or not can_move(head.status, COMPLETED)
        or head.clock_start is None
        or head.due_date is None
    ):
        log.warning(
            "decision ignored: case is not accepted",
            extra={"case_no": data.case_no, "status": head.status if head else None},
        )
        return None
    steps, new = _merge_steps(stored, data.steps)
    await repository.insert_steps(head.case_no, new)
    completed_day = local_date(data.decision.decided_at)
    values: dict[str, Any] = {
        "status": COMPLETED,
        "outcome": data.outcome,
        "decision": data.decision.model_dump(mode="json"),
        "licence": data.licence.model_dump(mode="json") if data.licence else None,
        "completed_at": data.decision.decided_at,
        "on_time": completed_day <= head.due_date,
        "working_days_used": calendar.working_days_between(head.clock_start, completed_day),
    }
    await repository.update_case(head.case_no, ACCEPTED, values)
    await deadlines.close_clock(
        session, head.case_no, completed_day, values["on_time"], ended_at=data.decision.decided_at
    )
    # 送达 within five working days of the decision, supervised like a step (ADR 0113).
    await delivery_service.start(
        session,
        head,
        decided_at=data.decision.decided_at,
        calendar=calendar,
        settings=delivery or delivery_service.DEFAULTS,
        supervision=supervision or deadlines.DEFAULTS,
    )
    event = CaseCompleted(
        case_no=head.case_no,
        application_id=head.application_id,
        applicant_id=head.applicant_id,
        item_code=head.item_code,
        outcome=data.outcome,
        decision=data.decision,
        licence=data.licence,
        completed_at=data.decision.decided_at,
        due_date=head.due_date,
        on_time=values["on_time"],
        working_days_used=values["working_days_used"] or 0,
        steps=[case_events.step_record(s) for s in steps],
    )
    await enqueue(
        session,
        messaging.outbox,
        make_event(event, source=source, subject=head.case_no, correlation_id=head.case_no),
    )
    return event


def _merge_steps(
    stored: Sequence[StepView], incoming: Sequence[StepRecord]
) -> tuple[list[StepView], list[StepRecord]]:
    """Every step of the case once the incoming ones are recorded, in read order, and the new ones.

    A step is the same as a recorded one when key and end match (the table's unique key).
    """
    steps = list(stored)
    seen = {(s.step_key, s.ended_at) for s in steps}
    new: list[StepRecord] = []
    for record in incoming:
        key = (record.step_key, record.ended_at)
        if key not in seen:
            seen.add(key)
            new.append(record)
            steps.append(StepView.of(record))
    steps.sort(key=step_order)
    return steps, new


async def get_visible_case(
    session: AsyncSession, case_no: str, principal: Principal, *, for_update: bool = False
) -> Case:
    """Return a case of the caller's unit and region, or raise ``CaseNotFound`` (others look absent)."""
    case = await CaseRepository.from_session(session).get_visible(
        case_no, handling_scope(principal), for_update=for_update
    )
    if case is None:
        raise CaseNotFound(f"办件 {case_no} 不存在")
    return case


async def read_case(
    session: AsyncSession, case_no: str, principal: Principal, *, reason: str | None, source: str
) -> Case:
    """办件详情 A case the caller may read (deny by default); the read of its applicant is audited.

    Raises:
        ReasonRequired: an administrator gave no reason.
        CaseNotFound: no such case in the caller's scope.
    """
    scope = scope_of(principal, reason=reason)
    case = await CaseRepository.from_session(session).get_visible(case_no, scope)
    if case is None:
        raise CaseNotFound(f"办件 {case_no} 不存在")
    await record_audit(
        session,
        messaging.outbox,
        source=source,
        action=PERSONAL_DATA_READ,
        actor=principal,
        region_code=case.case_no[:6],
        target_type="case",
        target_id=case.case_no,
        reason=reason,
        detail={"fields": ["applicant", "form", "materials"], "org_code": case.org_code},
    )
    return case


async def list_case_summaries(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    item_code: str | None,
    offset: int,
    limit: int,
    reason: str | None = None,
    source: str = "",
) -> tuple[Sequence[Any], int]:
    """Return one page of the cases the caller may read (the list's columns), newest first, and the total.

    Handling staff see their unit's cases in their region, supervisors their region's, an
    administrator their region's only with a reason (and the read is audited); anyone else none.
    """
    scope = scope_of(principal, reason=reason)
    page, total = await CaseRepository.from_session(session).list_summaries(
        scope, status=status, item_code=item_code, offset=offset, limit=limit
    )
    if scope.reason is not None:
        await record_audit(
            session,
            messaging.outbox,
            source=source,
            action=PERSONAL_DATA_READ,
            actor=principal,
            region_code=region_of(principal) or "000000",
            target_type="case_list",
            target_id=scope.region_prefix or "",
            reason=scope.reason,
            detail={"cases": [row.case_no for row in page], "fields": ["applicant_name"]},
        )
    return page, total


async def case_steps(session: AsyncSession, case: AnyCase) -> list[CaseStep]:
    """Return the recorded steps of a case in order."""
    return list(await CaseRepository.from_session(session).steps(case.case_no))


def require_move(case: AnyCase, new: CaseStatus, action: str) -> None:
    """Raise ``CaseStateConflict`` naming the current status unless the lifecycle allows the move."""
    if not can_move(case.status, new):
        raise CaseStateConflict(
            f"办件 {case.case_no} 当前状态为“{STATUS_TEXT[case.status]}”（{case.status}），不能{action}",
            current_status=case.status,
        )


def _org(case: AnyCase) -> Organisation:
    return Organisation(name=case.org_name, code=case.org_code)


def staff_step(
    case: AnyCase, principal: Principal, *, key: str, name: str, action: str, opinion: str, ended: datetime
) -> StepRecord:
    """Build a window step that began when the case last came to the window."""
    return StepRecord.model_validate(
        {
            "step_key": key,
            "step_name": name,
            "action": action,
            "handler_id": principal.sub,
            "handler_name": principal.name,
            "opinion": opinion,
            "started_at": case.last_supplemented_at or case.registered_at,
            "ended_at": ended,
            "org": _org(case),
        }
    )


async def accept_case(
    session: AsyncSession,
    *,
    case_no: str,
    principal: Principal,
    opinion: str,
    calendar: WorkingDayCalendar,
    source: str,
) -> CaseRecord:
    """受理 Accept a case whose required materials are all in; the promised clock starts."""
    case, _ = await accept_case_with_steps(
        session, case_no=case_no, principal=principal, opinion=opinion, calendar=calendar, source=source
    )
    return case


async def accept_case_with_steps(
    session: AsyncSession,
    *,
    case_no: str,
    principal: Principal,
    opinion: str,
    calendar: WorkingDayCalendar,
    source: str,
    supervision: SupervisionSettings | None = None,
    deferred: Sequence[DeferredMaterial] | None = None,
    supply_by: date | None = None,
) -> tuple[CaseRecord, list[StepView]]:
    """``accept_case``, also returning every step of the case afterwards (read with the case)."""
    repository = CaseRepository.from_session(session)
    locked = await repository.lock_visible(case_no, handling_scope(principal))
    if locked is None:
        raise CaseNotFound(f"办件 {case_no} 不存在")
    case, stored, unpaid = locked
    require_move(case, ACCEPTED, "受理")
    rules = kinds.IntakeRules.load(case.intake_rules)
    missing = missing_required(case.required_materials, case.materials)
    owed = deferred_materials(case, rules, missing, deferred or [], supply_by)
    owed_codes = {m.code for m in owed}
    if remaining := [m for m in missing if m.code not in owed_codes]:
        raise MaterialsMissing(
            f"缺少 {len(remaining)} 项必要材料，请先一次性告知补正", missing_materials=_dump(remaining)
        )
    # 受理前缴费: the promised clock starts only once the set fee is paid (ADR 0113); read with the lock.
    if unpaid:
        payment_service.refuse_unpaid(case, BEFORE_ACCEPTANCE)
    kind = kinds.kind_at_acceptance(
        rules, supplemented=case.supplement_notice_no is not None, deferred=bool(owed)
    )
    now = utcnow()
    values: dict[str, Any] = {
        "accepted_at": now,
        "accepted_window": window_of(principal),
        "acceptance_notice_no": notices.acceptance_notice_no(local_date(now), case.case_no),
        "status": ACCEPTED,
        "missing_materials": [],
        "case_kind": kind.value,
    }
    if owed:
        # 容缺受理: accepted, but the clock starts (and the case goes to the department) only
        # when the last owed material arrives (补办件, seed rules §1.4).
        values |= {"pending_materials": _dump(owed), "pending_due_date": supply_by, "clock_start": None}
        opinion += "；容缺受理，待补：" + "、".join(f"{m.name}（{supply_by:%Y-%m-%d} 前）" for m in owed)
    else:
        values |= _clock_values(case, kind, case.clock_start or local_date(now), calendar)
    case = replace(case, **values)
    step = staff_step(case, principal, key="accept", name="受理", action="pass", opinion=opinion, ended=now)
    await repository.update_case(case.case_no, PENDING_ACCEPTANCE, values)
    steps, new = _merge_steps(stored, [step])
    await repository.insert_steps(case.case_no, new)
    if owed:
        assert supply_by is not None
        await deadlines.open_deferred_clock(
            session,
            case_no=case.case_no,
            item_code=case.item_code,
            org_code=case.org_code,
            supply_by=supply_by,
            started_at=now,
            calendar=calendar,
            defaults=supervision or deadlines.DEFAULTS,
        )
        await enqueue(session, messaging.outbox, case_events.materials_owed_event(case, step, source=source))
    else:
        await _start_handling(session, case, step, calendar, supervision, principal.name, source)
    return case, steps


def _clock_values(
    case: AnyCase, kind: CaseKind, clock_start: date, calendar: WorkingDayCalendar
) -> dict[str, Any]:
    """The clock of an accepted case: the kind's limit from the day its materials were complete."""
    limit = kinds.limit_days(kind, case.promised_limit_days)
    return {
        "clock_start": clock_start,
        "promised_limit_days": limit,
        "due_date": calendar.add_working_days(clock_start, limit),
        "statutory_due_date": calendar.add_working_days(clock_start, case.statutory_limit_days),
    }


async def _start_handling(
    session: AsyncSession,
    case: AnyCase,
    step: StepRecord,
    calendar: WorkingDayCalendar,
    supervision: SupervisionSettings | None,
    by: str,
    source: str,
) -> None:
    """Open the supervision clock and hand the case to the department (``CaseAccepted``)."""
    assert case.clock_start is not None
    await deadlines.open_clock(
        session,
        case_no=case.case_no,
        item_code=case.item_code,
        org_code=case.org_code,
        channel=case.channel,
        window=case.accepted_window,
        clock_start=case.clock_start,
        promised_limit_days=case.promised_limit_days,
        statutory_limit_days=case.statutory_limit_days,
        calendar=calendar,
        defaults=supervision or deadlines.DEFAULTS,
        by=by,
    )
    await enqueue(session, messaging.outbox, case_events.accepted_event(case, step, source=source))


def deferred_materials(
    case: AnyCase,
    rules: kinds.IntakeRules,
    missing: Sequence[MissingMaterial],
    requested: Sequence[DeferredMaterial],
    supply_by: date | None,
) -> list[MissingMaterial]:
    """The materials a 容缺受理 leaves owed, checked against the item's rules (none: a plain acceptance).

    Raises:
        DeferralNotAllowed: the item does not allow 容缺受理.
        DeferredMaterialInvalid: a material not missing, not 可容缺 (a key material), or twice; or
            a due date in the past.
    """
    if not requested:
        return []
    if not rules.deferred_acceptance:
        raise DeferralNotAllowed(f"事项“{case.item_name}”不允许容缺受理，请一次性告知补正")
    flags = {r["code"]: r for r in case.required_materials}
    missing_codes = {m.code for m in missing}
    codes = [m.code for m in requested]
    invalid = sorted(
        {
            c
            for c in codes
            if c not in missing_codes or not flags.get(c, {}).get("deferrable") or codes.count(c) > 1
        }
    )
    if invalid:
        raise DeferredMaterialInvalid(
            f"以下材料不能容缺（非缺少的材料、关键材料或重复）：{'、'.join(invalid)}",
            invalid_materials=invalid,
        )
    if supply_by is None or supply_by < local_date(utcnow()):
        raise DeferredMaterialInvalid("容缺材料补齐期限不能早于今天", invalid_materials=[])
    return [MissingMaterial(code=m.code, name=flags[m.code]["name"], reason=m.reason) for m in requested]


async def supply_deferred(
    session: AsyncSession,
    *,
    case_no: str,
    principal: Principal,
    materials: Sequence[MaterialRef],
    calendar: WorkingDayCalendar,
    source: str,
    supervision: SupervisionSettings | None = None,
) -> Case:
    """补齐容缺材料 Record owed materials; the last one starts the clock and hands the case on.

    Raises:
        CaseNotFound: no such case in the caller's unit.
        NothingPending: the case owes nothing.
        DeferredMaterialInvalid: a material the case does not owe, or twice.
    """
    case = await get_visible_case(session, case_no, principal, for_update=True)
    owed = list(case.pending_materials or [])
    if case.status != ACCEPTED or not owed:
        raise NothingPending(f"办件 {case.case_no} 没有待补齐的容缺材料")
    owed_codes = {m["code"] for m in owed}
    codes = [m.material_code for m in materials]
    invalid = sorted({c for c in codes if c not in owed_codes or codes.count(c) > 1})
    if invalid:
        raise DeferredMaterialInvalid(
            f"以下材料不是该办件待补齐的容缺材料：{'、'.join(invalid)}", invalid_materials=invalid
        )
    now = utcnow()
    names = "、".join(m["name"] for m in owed if m["code"] in set(codes))
    step = staff_step(
        case, principal, key="deferred_supply", name="容缺材料补齐", action="pass", opinion=names, ended=now
    )
    await _record_deferred(
        session,
        case,
        materials,
        step,
        calendar=calendar,
        supervision=supervision,
        by=principal.name,
        source=source,
    )
    return case


async def _record_deferred(
    session: AsyncSession,
    case: Case,
    materials: Sequence[MaterialRef],
    step: StepRecord,
    *,
    calendar: WorkingDayCalendar,
    supervision: SupervisionSettings | None,
    by: str,
    source: str,
) -> None:
    """Add owed materials (checked) to the case; the last one starts the clock and hands the case on."""
    supplied = {m.material_code for m in materials}
    case.materials = [m for m in case.materials if m["material_code"] not in supplied] + [
        m.model_dump(mode="json") for m in materials
    ]
    case.pending_materials = [m for m in case.pending_materials or [] if m["code"] not in supplied]
    case.last_supplemented_at = step.ended_at
    await CaseRepository.from_session(session).add_steps(case.case_no, [step])
    if not case.pending_materials:
        kind = CaseKind.of(case.case_kind or CaseKind.SUPPLEMENTED.value)
        for name, value in _clock_values(case, kind, local_date(step.ended_at), calendar).items():
            setattr(case, name, value)
        case.pending_due_date = None
        await session.flush()
        await deadlines.end_deferred_clock(session, case.case_no, step.ended_at)
        await _start_handling(session, case, step, calendar, supervision, by, source)


async def receive_deferred(
    session: AsyncSession,
    case: Case,
    data: ApplicationSupplemented,
    *,
    calendar: WorkingDayCalendar,
    supervision: SupervisionSettings | None,
    source: str,
) -> Case | None:
    """容缺材料 handed in through the portal: recorded as at the window (``supply_deferred``).

    Materials the case does not owe change nothing (the gateway refuses them up front); the refusal
    stays on the case's record.
    """
    owed = {m["code"]: m["name"] for m in case.pending_materials or []}
    codes = [m.material_code for m in data.materials]
    if others := sorted({c for c in codes if c not in owed or codes.count(c) > 1}):
        log.warning(
            "deferred supply refused: materials the case does not owe",
            extra={"case_no": case.case_no, "not_owed": others, "owed": sorted(owed)},
        )
        await CaseRepository.from_session(session).add_steps(
            case.case_no,
            [
                _applicant_step(
                    case,
                    data,
                    "deferred_supply_refused",
                    "容缺材料不予接收",
                    "other",
                    f"非待补齐的容缺材料不予接收：{'、'.join(others)}",
                )
            ],
        )
        return None
    step = _applicant_step(
        case,
        data,
        "deferred_supply",
        "容缺材料补齐",
        "pass",
        "网上补交：" + "、".join(owed[c] for c in codes),
    )
    await _record_deferred(
        session,
        case,
        data.materials,
        step,
        calendar=calendar,
        supervision=supervision,
        by=str(case.applicant.get("name", "")),
        source=source,
    )
    return case


def _applicant_step(
    case: Case, data: ApplicationSupplemented, key: str, name: str, action: str, opinion: str
) -> StepRecord:
    return StepRecord(
        step_key=key,
        step_name=name,
        action=action,
        handler_id=case.applicant_id,
        handler_name=str(case.applicant.get("name", "")),
        opinion=opinion,
        started_at=case.accepted_at or data.supplemented_at,
        ended_at=data.supplemented_at,
        org=_org(case),
    )


async def issue_supplement_notice(
    session: AsyncSession,
    *,
    case_no: str,
    principal: Principal,
    requested: list[NoticeMaterial] | None,
    note: str | None,
    source: str,
) -> Case:
    """一次性告知 Ask for every missing material in one notice; the clock will restart on completion."""
    case = await get_visible_case(session, case_no, principal, for_update=True)
    require_move(case, AWAITING_SUPPLEMENT, "出具补正告知")
    materials = notice_materials(case, requested)
    if not materials:
        raise NothingMissing(f"办件 {case.case_no} 的必要材料已齐全，请直接受理")
    now = utcnow()
    case.status = AWAITING_SUPPLEMENT
    case.missing_materials = _dump(materials)
    case.supplement_notice_no = notices.supplement_notice_no(local_date(now), case.case_no)
    case.supplement_notice_text = notices.supplement_notice_text(
        applicant_name=str(case.applicant.get("name", "")),
        item_name=case.item_name,
        case_no=case.case_no,
        materials=materials,
        note=note,
    )
    case.supplement_requested_at = now
    # The promised clock restarts on the day the last requested material arrives.
    case.clock_start = None
    opinion = "一次性告知补正：" + "、".join(m.name for m in materials)
    step = staff_step(
        case,
        principal,
        key="supplement_notice",
        name="材料补正告知",
        action="return",
        opinion=opinion,
        ended=now,
    )
    await CaseRepository.from_session(session).add_steps(case.case_no, [step])
    await enqueue(
        session, messaging.outbox, case_events.supplement_requested_event(case, step, source=source)
    )
    return case


def notice_materials(case: Case, requested: list[NoticeMaterial] | None) -> list[MissingMaterial]:
    """Return the notice's list: by default every missing required material; a given list must cover them."""
    missing = missing_required(case.required_materials, case.materials)
    if requested is None:
        return missing
    names = {r["code"]: r["name"] for r in case.required_materials}
    codes = [m.code for m in requested]
    invalid = sorted({c for c in codes if c not in names or codes.count(c) > 1})
    if invalid:
        raise NoticeMaterialInvalid(f"材料编码无效或重复：{'、'.join(invalid)}", invalid_materials=invalid)
    omitted = [m for m in missing if m.code not in set(codes)]
    if omitted:
        raise NoticeIncomplete(
            "一次性告知必须列明全部缺少的必要材料，遗漏：" + "、".join(m.name for m in omitted),
            omitted_materials=_dump(omitted),
        )
    return [MissingMaterial(code=m.code, name=names[m.code], reason=m.reason) for m in requested]


async def reject_case(
    session: AsyncSession, *, case_no: str, principal: Principal, reason: str, source: str
) -> Case:
    """不予受理 Refuse to accept, with the reason."""
    case = await get_visible_case(session, case_no, principal, for_update=True)
    if case.status == ACCEPTED:
        # 已受理 → 不予受理 is the lifecycle's move for a lapsed 容缺 case only (lapse_deferred).
        raise CaseStateConflict(
            f"办件 {case.case_no} 当前状态为“{STATUS_TEXT[case.status]}”（{case.status}），不能不予受理",
            current_status=case.status,
        )
    require_move(case, NOT_ACCEPTED, "不予受理")
    now = utcnow()
    case.status = NOT_ACCEPTED
    case.rejection_notice_no = notices.rejection_notice_no(local_date(now), case.case_no)
    case.rejection_reason = reason
    case.rejected_at = now
    case.missing_materials = []
    case.case_kind = CaseKind.RETURNED.value
    step = staff_step(
        case, principal, key="reject", name="不予受理", action="other", opinion=reason, ended=now
    )
    await CaseRepository.from_session(session).add_steps(case.case_no, [step])
    await enqueue(session, messaging.outbox, case_events.rejected_event(case, step, source=source))
    return case


async def lapse_deferred(
    session: AsyncSession, *, case_no: str, principal: Principal, reason: str | None, source: str
) -> Case:
    """容缺逾期退回 Return a 容缺 case whose owed material did not come by its date (a 退回件).

    The case never reached the department, so nothing there is to withdraw: it becomes 不予受理
    with a 不予受理通知书 (the reason, the appeal rights) and ``case.rejected`` goes out.

    Raises:
        CaseNotFound: no such case in the caller's unit.
        NothingPending: the case owes nothing (not a 容缺 case, or the material arrived).
        DeferralNotLapsed: the date to supply by has not passed yet.
    """
    case = await get_visible_case(session, case_no, principal, for_update=True)
    owed = list(case.pending_materials or [])
    if case.status != ACCEPTED or not owed:
        raise NothingPending(f"办件 {case.case_no} 没有待补齐的容缺材料")
    now = utcnow()
    today = local_date(now)
    if case.pending_due_date is None or today <= case.pending_due_date:
        raise DeferralNotLapsed(
            f"容缺材料补齐期限（{case.pending_due_date}）尚未届满，不能退回",
            supply_by=str(case.pending_due_date),
        )
    require_move(case, NOT_ACCEPTED, "容缺逾期退回")
    names = "、".join(m["name"] for m in owed)
    text = f"容缺材料（{names}）未在承诺期限 {case.pending_due_date:%Y-%m-%d} 前补齐，依容缺受理承诺退回申请"
    if reason:
        text += f"；{reason}"
    case.status = NOT_ACCEPTED
    case.rejection_notice_no = notices.rejection_notice_no(today, case.case_no)
    case.rejection_reason = text
    case.rejected_at = now
    case.case_kind = CaseKind.RETURNED.value
    step = staff_step(
        case, principal, key="deferred_lapse", name="容缺逾期退回", action="other", opinion=text, ended=now
    )
    await CaseRepository.from_session(session).add_steps(case.case_no, [step])
    await deadlines.end_deferred_clock(session, case.case_no, now)
    await enqueue(session, messaging.outbox, case_events.rejected_event(case, step, source=source))
    return case


def notice_print(case: Case, kind: NoticeKind, progress_url: str) -> documents.NoticePrint:
    """What the notice of that kind prints for the case.

    Raises:
        NoticeNotIssued: the case has no such notice.
    """
    listed: list[tuple[str, str]]
    remedies: list[str]
    if kind == "acceptance" and case.acceptance_notice_no and case.accepted_at:
        body, owed = documents.acceptance_body(case)
        number, issued, listed, remedies = case.acceptance_notice_no, case.accepted_at, owed, []
    elif kind == "supplement" and case.supplement_notice_no and case.supplement_requested_at:
        body, listed, remedies = documents.supplement_body(case), [], []
        number, issued = case.supplement_notice_no, case.supplement_requested_at
    elif kind == "rejection" and case.rejection_notice_no and case.rejected_at:
        body, listed, remedies = documents.rejection_body(case), [], documents.remedies()
        number, issued = case.rejection_notice_no, case.rejected_at
    else:
        raise NoticeNotIssued(f"办件 {case.case_no} 尚未出具{documents.TITLES[kind]}")
    return documents.NoticePrint(
        title=documents.TITLES[kind],
        notice_no=number,
        case_no=case.case_no,
        item_name=case.item_name,
        applicant_name=str(case.applicant.get("name", "")),
        org_name=case.org_name,
        issued_at=issued,
        body=tuple(body),
        listed=tuple(listed),
        list_title="【容缺材料】",
        remedies=tuple(remedies),
        progress_url=progress_url,
    )


async def notice_pdf(
    session: AsyncSession,
    *,
    case_no: str,
    kind: NoticeKind,
    principal: Principal,
    reason: str | None,
    progress_url: str,
    font: Path,
    source: str,
) -> tuple[str, bytes]:
    """The notice PDF of a case for its applicant or staff who may read it; (filename, bytes).

    Anyone else is answered as if there were no notice (ADR 0013); an administrator's read is audited.

    Raises:
        ReasonRequired: an administrator gave no reason.
        NoticeNotIssued: no such case in the caller's scope, or no such notice.
    """
    scope = scope_of(principal, reason=reason)
    case = await CaseRepository.from_session(session).get(case_no)
    if case is None or not scope.admits(
        applicant_id=case.applicant_id, org_code=case.org_code, region_code=case.case_no[:6]
    ):
        raise NoticeNotIssued(f"办件 {case_no} 尚未出具{documents.TITLES[kind]}")
    doc = notice_print(case, kind, progress_url)
    if scope.reason is not None:
        await audit_notice_read(session, principal, case, kind, reason=scope.reason, source=source)
    return f"{case.case_no}-{kind}.pdf", documents.render_notice_pdf(doc, font)


async def audit_notice_read(
    session: AsyncSession, principal: Principal, case: Case, kind: str, *, reason: str, source: str
) -> None:
    """An administrator's read of a notice (it names the applicant): audited with its reason."""
    await record_audit(
        session,
        messaging.outbox,
        source=source,
        action=PERSONAL_DATA_READ,
        actor=principal,
        region_code=case.case_no[:6],
        target_type="case_notice",
        target_id=case.case_no,
        reason=reason,
        detail={"notice": kind, "org_code": case.org_code},
    )
