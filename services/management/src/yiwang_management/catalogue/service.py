"""Catalogue use cases: compile 目录清单 entries, and draft → submit → approve → publish → withdraw
实施清单 versions (谁编制、谁维护: the implementing body edits, the centre approves).

Publishing goes through ``item.service.publish_item``: the ``item`` row stays the one copy of
what is in force (what registration reads), and ``ItemPublished`` leaves with it in the same
unit of work. Every version stays a row, so history is kept and two versions can be compared.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_ADMIN, Principal
from yiwang_common.contracts.codes import REGIONS, ItemType
from yiwang_common.contracts.common import MaterialRequirement, Organisation
from yiwang_common.db import utcnow
from yiwang_management.catalogue.errors import (
    EntryExists,
    EntryNotFound,
    InvalidItemCode,
    NotOwner,
    VersionNotFound,
    VersionStateConflict,
)
from yiwang_management.catalogue.models import (
    APPROVED,
    DRAFT,
    PUBLISHED,
    STATUS_NAMES,
    SUBMITTED,
    SUPERSEDED,
    WITHDRAWN,
    CatalogueEntry,
    ItemVersion,
)
from yiwang_management.catalogue.repository import CatalogueEntryRepository, ItemVersionRepository
from yiwang_management.catalogue.schemas import (
    CatalogueEntryCreate,
    FieldChange,
    ImplementationContent,
    Material,
    VersionCreate,
    VersionDiff,
)
from yiwang_management.item import service as item_service
from yiwang_management.item.schemas import ItemCreate

log = logging.getLogger(__name__)

#: 中心管理员: the management body (政务服务管理机构) that approves and publishes (DYN-01/02).
CENTRE_ROLE = ROLE_ADMIN


def is_centre(principal: Principal) -> bool:
    """Whether the caller acts for the centre that approves and publishes."""
    return principal.kind == "staff" and principal.has_role(CENTRE_ROLE)


def _require_centre(principal: Principal) -> None:
    if not is_centre(principal):
        raise NotOwner("审核、发布和撤销由政务服务管理机构（中心管理员）办理", required_role=CENTRE_ROLE)


def _require_owner(principal: Principal, org_code: str) -> None:
    # 谁编制、谁维护: the staff of the implementing body, and nobody else, keep its entries.
    if principal.kind != "staff" or principal.org_code != org_code:
        raise NotOwner(f"只有实施主体（{org_code}）的工作人员可以编辑和提交本事项")


# --- 目录清单 ----------------------------------------------------------------------------------


async def existing_entry(session: AsyncSession, body: CatalogueEntryCreate) -> CatalogueEntry | None:
    """The stored entry of ``body``'s basic code if it says the same; ``EntryExists`` if it differs."""
    existing = await CatalogueEntryRepository.from_session(session).get_by_id(body.basic_code)
    values = body.model_dump(mode="json")
    if existing is not None and {k: getattr(existing, k) for k in values} != values:
        raise EntryExists(f"基本编码 {body.basic_code} 已用于“{existing.name}”，与所填内容不一致")
    return existing


async def create_entry(
    session: AsyncSession, body: CatalogueEntryCreate, principal: Principal
) -> CatalogueEntry:
    """Compile a catalogue entry; the same entry again changes nothing, a different one is refused."""
    _require_centre(principal)
    repository = CatalogueEntryRepository.from_session(session)
    values = body.model_dump(mode="json")
    if (existing := await existing_entry(session, body)) is not None:
        return existing
    if body.parent_basic_code and await repository.get_by_id(body.parent_basic_code) is None:
        raise EntryNotFound(f"主项 {body.parent_basic_code} 不在目录清单中")
    return await repository.create(CatalogueEntry(**values, created_at=utcnow()), flush=True)


async def get_entry(session: AsyncSession, basic_code: str) -> CatalogueEntry:
    """Return a catalogue entry or raise ``EntryNotFound``."""
    entry = await CatalogueEntryRepository.from_session(session).get_by_id(basic_code)
    if entry is None:
        raise EntryNotFound(f"基本编码 {basic_code} 不在目录清单中")
    return entry


async def list_entries(session: AsyncSession) -> Sequence[CatalogueEntry]:
    """Every catalogue entry."""
    return await CatalogueEntryRepository.from_session(session).list_all()


# --- 实施清单 versions ------------------------------------------------------------------------


async def _check(session: AsyncSession, item_code: str, content: ImplementationContent) -> CatalogueEntry:
    entry = await get_entry(session, content.basic_code)
    if problem := content.check_codes(item_code):
        raise InvalidItemCode(problem, item_code=item_code)
    return entry


async def create_version(session: AsyncSession, body: VersionCreate, principal: Principal) -> ItemVersion:
    """Start a new draft of an implementation entry (the first one creates the entry)."""
    content = body.content
    _require_owner(principal, content.implementing_org.code)
    await _check(session, body.item_code, content)
    repository = ItemVersionRepository.from_session(session)
    history = await repository.history(body.item_code)
    if history and history[-1].org_code != content.implementing_org.code:
        raise NotOwner("实施编码已属于另一实施主体")
    if await repository.open_version(body.item_code) is not None:
        raise VersionStateConflict("本事项已有未发布的版本，请先完成或退回该版本")
    version = ItemVersion(
        item_code=body.item_code,
        version=await repository.next_version(body.item_code),
        basic_code=content.basic_code,
        status=DRAFT,
        org_code=content.implementing_org.code,
        region_code=content.region_code,
        content=content.model_dump(mode="json"),
        note="",
        created_by=principal.sub,
        created_at=utcnow(),
    )
    return await repository.create(version, flush=True)


async def _version(session: AsyncSession, item_code: str, number: int) -> ItemVersion:
    version = await ItemVersionRepository.from_session(session).get(item_code, number, for_update=True)
    if version is None:
        raise VersionNotFound(f"事项 {item_code} 没有版本 {number}")
    return version


def _expect(version: ItemVersion, *states: str) -> None:
    if version.status not in states:
        wanted = "、".join(STATUS_NAMES[s] for s in states)
        raise VersionStateConflict(
            f"版本 {version.version} 当前为“{STATUS_NAMES[version.status]}”，此操作只适用于“{wanted}”的版本",
            status_now=version.status,
        )


async def update_draft(
    session: AsyncSession, item_code: str, number: int, content: ImplementationContent, principal: Principal
) -> ItemVersion:
    """Replace the content of a draft; only the owner, only while it is a draft."""
    version = await _version(session, item_code, number)
    _require_owner(principal, version.org_code)
    _require_owner(principal, content.implementing_org.code)
    _expect(version, DRAFT)
    await _check(session, item_code, content)
    return await ItemVersionRepository.from_session(session).update(
        version,
        update_dict={
            "content": content.model_dump(mode="json"),
            "basic_code": content.basic_code,
            "region_code": content.region_code,
            # Edited by hand: no longer what a spreadsheet row said (an import must not skip it).
            "source_hash": None,
        },
    )


async def submit(session: AsyncSession, item_code: str, number: int, principal: Principal) -> ItemVersion:
    """提交审核 The owner hands a draft to the centre."""
    version = await _version(session, item_code, number)
    _require_owner(principal, version.org_code)
    _expect(version, DRAFT)
    return await ItemVersionRepository.from_session(session).update(
        version, update_dict={"status": SUBMITTED, "submitted_at": utcnow()}
    )


async def approve(session: AsyncSession, item_code: str, number: int, principal: Principal) -> ItemVersion:
    """审核通过 The centre approves a submitted version."""
    _require_centre(principal)
    version = await _version(session, item_code, number)
    _expect(version, SUBMITTED)
    return await ItemVersionRepository.from_session(session).update(
        version, update_dict={"status": APPROVED, "approved_by": principal.sub, "approved_at": utcnow()}
    )


async def send_back(
    session: AsyncSession, item_code: str, number: int, note: str, principal: Principal
) -> ItemVersion:
    """退回修改 The centre returns a submitted or approved version to its owner as a draft."""
    _require_centre(principal)
    version = await _version(session, item_code, number)
    _expect(version, SUBMITTED, APPROVED)
    return await ItemVersionRepository.from_session(session).update(
        version,
        update_dict={
            "status": DRAFT,
            "note": note,
            "submitted_at": None,
            "approved_by": None,
            "approved_at": None,
        },
    )


async def publish(
    session: AsyncSession, item_code: str, number: int, principal: Principal | None, *, source: str
) -> ItemVersion:
    """发布 Put an approved version in force; the version it replaces is superseded.

    Args:
        principal: the centre administrator; None for the demo loader, which publishes as the system.
    """
    if principal is not None:
        _require_centre(principal)
    version = await _version(session, item_code, number)
    _expect(version, APPROVED)
    repository = ItemVersionRepository.from_session(session)
    now = utcnow()
    previous = await repository.published(item_code, for_update=True)
    if previous is not None:
        # Flushed first: the partial unique index allows one published row per item.
        await repository.update(previous, update_dict={"status": SUPERSEDED}, flush=True)
    await repository.update(version, update_dict={"status": PUBLISHED, "published_at": now}, flush=True)
    entry = await get_entry(session, version.basic_code)
    content = ImplementationContent.model_validate(version.content)
    item_create, extras = project(entry, item_code, version.version, content)
    await item_service.publish_item(session, item_create, source=source, extras=extras)
    log.info("catalogue version published", extra={"item_code": item_code, "version": version.version})
    return version


async def withdraw(
    session: AsyncSession, item_code: str, number: int, note: str, principal: Principal, *, source: str
) -> ItemVersion:
    """撤销 Take the version in force out of force; running cases keep it, new ones cannot start."""
    _require_centre(principal)
    version = await _version(session, item_code, number)
    _expect(version, PUBLISHED)
    now = utcnow()
    await ItemVersionRepository.from_session(session).update(
        version, update_dict={"status": WITHDRAWN, "withdrawn_at": now, "note": note}, flush=True
    )
    await item_service.withdraw_item(
        session, item_code, version=version.version, reason=note or "事项撤销", at=now, source=source
    )
    return version


async def history(session: AsyncSession, item_code: str) -> Sequence[ItemVersion]:
    """Every version of an item, oldest first."""
    versions = await ItemVersionRepository.from_session(session).history(item_code)
    if not versions:
        raise VersionNotFound(f"事项 {item_code} 没有版本")
    return versions


async def get_version(session: AsyncSession, item_code: str, number: int) -> ItemVersion:
    """One version or ``VersionNotFound``."""
    version = await ItemVersionRepository.from_session(session).get(item_code, number)
    if version is None:
        raise VersionNotFound(f"事项 {item_code} 没有版本 {number}")
    return version


async def list_versions(
    session: AsyncSession, *, org_code: str | None, status: str | None, page: int, limit: int
) -> tuple[Sequence[ItemVersion], int]:
    """One page of versions."""
    return await ItemVersionRepository.from_session(session).list_page(
        org_code=org_code, status=status, page=page, limit=limit
    )


async def diff(session: AsyncSession, item_code: str, a: int, b: int) -> VersionDiff:
    """版本比较 Element-by-element difference of two versions' content."""
    before = await get_version(session, item_code, a)
    after = await get_version(session, item_code, b)
    return VersionDiff(
        item_code=item_code,
        from_version=a,
        to_version=b,
        changes=field_changes(before.content, after.content),
    )


_MISSING = object()


def field_changes(before: Any, after: Any, pointer: str = "") -> list[FieldChange]:
    """The JSON-pointer paths where two documents differ, depth first, in key order.

    Lists of objects are compared position by position, so one changed material shows as its
    changed attributes rather than as the whole list.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[FieldChange] = []
        for key in sorted(set(before) | set(after)):
            token = str(key).replace("~", "~0").replace("/", "~1")
            changes += field_changes(
                before.get(key, _MISSING), after.get(key, _MISSING), f"{pointer}/{token}"
            )
        return changes
    if isinstance(before, list) and isinstance(after, list) and before != after:
        changes = []
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else _MISSING
            new = after[index] if index < len(after) else _MISSING
            changes += field_changes(old, new, f"{pointer}/{index}")
        return changes
    if before == after:
        return []
    return [
        FieldChange(
            path=pointer or "/",
            before=None if before is _MISSING else before,
            after=None if after is _MISSING else after,
        )
    ]


# --- projection onto the item in force and its event --------------------------------------------


def _material_requirement(material: Material) -> MaterialRequirement:
    form = (
        "electronic"
        if material.electronic_required
        else ("copy" if material.material_type == "2" else "original")
    )
    return MaterialRequirement(
        code=material.code,
        name=material.name,
        required=material.required,
        copies=material.copies,
        form=form,
        source=material.source.label,
        notes=material.instructions or None,
        material_type=material.material_type.value,
        source_notes=material.source_notes or None,
        paper_format=material.paper_format or None,
        sample_ref=material.sample_ref or None,
        blank_form_ref=material.blank_form_ref or None,
        electronic_required=material.electronic_required,
        acceptance_standard=material.acceptance_standard or None,
        legal_basis=material.legal_basis or None,
        shareable=material.shareable,
        deferrable=material.deferrable or None,
    )


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def guide_elements(content: ImplementationContent) -> dict[str, Any]:
    """办事指南要素 generated from the entry's elements (never typed twice, DYN-03)."""
    elements: dict[str, Any] = {
        "行使层级": content.exercise_level.label,
        "实施主体性质": content.body_nature.label,
        "办件类型": content.case_type.label,
        "办理形式": [f.label for f in content.handling_forms],
        "办理流程": [s.name for s in content.process],
        "结果名称": content.result_name,
        "结果样本": content.result_sample_ref,
        "收费依据": [f.basis for f in content.fees],
        "审查标准": content.review_standard,
        "通办范围": content.cross_region_scope.label if content.cross_region_scope else "",
        "预约办理": _yes(content.appointment),
        "网上支付": _yes(content.online_payment),
        "物流快递": _yes(content.delivery),
        "办理地点": content.place,
        "办理时间": content.hours,
        "咨询电话": content.enquiry_phone,
        "监督投诉电话": content.complaint_phone,
        "到办事现场次数": content.visits.label if content.visits else "",
        "联办机构": [b.name for b in content.co_handling_orgs],
        "上报审批机关": content.decision_org,
        "容缺受理": "是" if content.deferred_acceptance else "",
        "中介服务": list(content.intermediary_services),
        "数量限制": content.quantity_limit,
        "时限说明": content.limit_notes,
        "特别程序": [p.label for p in content.special_procedures],
        "常见问题": [f.model_dump() for f in content.faq],
        "办理项": [h.model_dump() for h in content.handling_items],
    }
    # Empty elements are left out: a guide shows what the body filled in, and the rest is optional.
    shown = {k: v for k, v in elements.items() if v not in ("", [], None)}
    return shown | dict(content.other_elements)


def project(
    entry: CatalogueEntry, item_code: str, version: int, content: ImplementationContent
) -> tuple[ItemCreate, dict[str, Any]]:
    """The item row of a version and the event's additive fields."""
    item_type = ItemType.of(entry.item_type)
    if content.fees:
        fee = "；".join(f"{f.name}：{f.standard}" for f in content.fees)[:500]
    else:
        fee = "不收费"
    item_create = ItemCreate(
        item_code=item_code,
        basic_code=entry.basic_code,
        name=entry.name,
        item_type=item_type.label,
        version=version,
        implementing_org=Organisation(name=content.implementing_org.name, code=content.implementing_org.code),
        region_code=content.region_code,
        service_object=[o.label for o in content.service_objects],
        scope=content.scope,
        legal_basis=list(entry.legal_basis),
        conditions=list(content.conditions),
        materials=[_material_requirement(m) for m in content.materials],
        statutory_limit_days=content.statutory_limit_days,
        promised_limit_days=content.promised_limit_days,
        case_type=content.case_type.value,
        fee=fee,
        form_schema=content.form_schema,
        guide=guide_elements(content),
    )
    themes = [*content.natural_person_themes, *content.legal_person_themes]
    extras = {
        "item_type_code": item_type.value,
        "exercise_level": content.exercise_level.value,
        "exercise_level_name": content.exercise_level.label,
        "region_name": REGIONS.get(content.region_code),
        "service_object_codes": [o.value for o in content.service_objects],
        "themes": list(dict.fromkeys(t.label for t in themes)),
        "theme_codes": [t.value for t in themes],
        "handling_forms": [f.label for f in content.handling_forms],
        "online": any(f.online for f in content.handling_forms),
        "fee_charged": content.fee_charged,
        "cross_region_scope": content.cross_region_scope.label if content.cross_region_scope else None,
        "visits": content.visits.value if content.visits else None,
    }
    return item_create, extras


def dimensions(content: ImplementationContent, entry_item_type: str) -> dict[str, Any]:
    """七个分类维度 of a version (guideline §二), names and codes."""
    item_type = ItemType.of(entry_item_type)
    return {
        "事项性质": item_type.nature.label,
        "服务对象": [o.label for o in content.service_objects],
        "实施主体": content.implementing_org.name,
        "服务主题": [t.label for t in (*content.natural_person_themes, *content.legal_person_themes)],
        "服务层级": content.exercise_level.label,
        "服务形式": content.service_form.label,
        "行政管辖": content.jurisdiction.label,
    }
