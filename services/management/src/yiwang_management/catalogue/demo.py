"""Demonstration catalogue: the three 元江县住建局 items plus ``data/demo_catalogue.tsv``.

Every item goes through the catalogue as the system would: a 目录清单 entry, a version of the
实施清单 entry, approved and published. Loading twice changes nothing (an entry in force with
the same content is skipped). The TSV's implementing bodies have no published 统一社会信用代码
here, so each gets a demonstration code with a correct GB 32100 check character.
"""

from __future__ import annotations

import csv
import logging
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.checkdigits import uscc_check
from yiwang_common.contracts.codes import (
    HandlingForm,
    ItemType,
    LegalPersonTheme,
    MaterialSource,
    NaturalPersonTheme,
    ServiceObject,
    VisitCount,
    region_level,
)
from yiwang_common.db import utcnow
from yiwang_management.catalogue import service
from yiwang_management.catalogue.models import APPROVED, PUBLISHED, SUPERSEDED, CatalogueEntry, ItemVersion
from yiwang_management.catalogue.repository import CatalogueEntryRepository, ItemVersionRepository
from yiwang_management.catalogue.schemas import (
    Body,
    CatalogueEntryCreate,
    Fee,
    ImplementationContent,
    Material,
    ProcessStep,
    VersionCreate,
)
from yiwang_management.demo_items import demo_items
from yiwang_management.item.schemas import ItemCreate

log = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data" / "demo_catalogue.tsv"
_SOURCES = {"申请人自备": MaterialSource.APPLICANT}


@dataclass(frozen=True)
class DemoItem:
    """One item of the demonstration catalogue."""

    entry: CatalogueEntryCreate
    item_code: str
    content: ImplementationContent


def demo_org_code(region: str, department: str) -> str:
    """A stable demonstration 统一社会信用代码 for a body (1 机关, 1 category, region, 9 chars)."""
    body = f"{zlib.crc32(department.encode()) % 10**9:09d}"
    first17 = f"11{region}{body}"
    return first17 + uscc_check(first17)


def demo_basic_code(item_type: ItemType, name: str) -> str:
    """A stable 10-character 基本编码: type code and 8 digits of the name (same name, same code)."""
    return f"{item_type.value}{zlib.crc32(name.encode()) % 10**8:08d}"


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", "、").split("、") if part.strip()]


def _themes(
    names: list[str], objects: list[ServiceObject]
) -> tuple[list[NaturalPersonTheme], list[LegalPersonTheme]]:
    natural: list[NaturalPersonTheme] = []
    legal: list[LegalPersonTheme] = []
    has_natural = ServiceObject.NATURAL_PERSON in objects
    has_legal = any(not o.is_natural_person for o in objects)
    for name in names:
        try:
            if has_natural:
                natural.append(NaturalPersonTheme.from_label(name))
                continue
        except ValueError:
            pass
        try:
            if has_legal:
                legal.append(LegalPersonTheme.from_label(name))
        except ValueError:
            continue
    return natural, legal


def tsv_items(path: Path = DATA, *, known: Iterable[DemoItem] = ()) -> Iterator[DemoItem]:
    """The items of the TSV (one per row; the same name shares one 目录清单 entry).

    Args:
        known: items described elsewhere in full; a row of the same body and name is skipped,
            and their bodies keep their real codes.
    """
    known = list(known)
    covered = {(k.content.implementing_org.name, k.entry.name) for k in known}
    real_codes = {k.content.implementing_org.name: k.content.implementing_org.code for k in known}
    with path.open(encoding="utf-8") as handle:
        rows = csv.reader((line for line in handle if not line.startswith("#")), delimiter="\t")
        for row in rows:
            region, department, type_name, name, objects_text, themes, life_events = row[:7]
            promised, statutory, online, fee, materials, conditions = row[7:13]
            if (department, name) in covered:
                continue
            item_type = ItemType.from_label(type_name)
            objects = list(dict.fromkeys(ServiceObject.from_label(o) for o in _split(objects_text)))
            natural, legal = _themes(_split(themes), objects)
            org = Body(name=department, code=real_codes.get(department) or demo_org_code(region, department))
            level = region_level(region)
            basic = demo_basic_code(item_type, name)
            forms = [HandlingForm.WINDOW] + ([HandlingForm.ONLINE_COMPUTER] if online == "是" else [])
            fees = (
                []
                if fee == "不收费"
                else [
                    Fee(name=f"{name}工本费", standard=fee, basis="按国家和云南省核定的收费标准（演示数据）")
                ]
            )
            content = ImplementationContent(
                basic_code=basic,
                exercise_level=level,
                implementing_org=org,
                region_code=region,
                service_objects=objects,
                natural_person_themes=natural,
                legal_person_themes=legal,
                handling_forms=forms,
                conditions=[conditions] if conditions else [],
                materials=[Material(code=f"M{i:02d}", name=m) for i, m in enumerate(_split(materials), 1)],
                process=[ProcessStep(name=s) for s in ("申请", "受理", "审查", "决定", "办结")],
                statutory_limit_days=int(statutory),
                promised_limit_days=int(promised),
                fee_charged=bool(fees),
                fees=fees,
                visits=VisitCount.ZERO if online == "是" else VisitCount.ONE,
                place=f"{department}政务服务窗口",
                hours="工作日 上午 9:00-12:00，下午 14:30-17:30（法定节假日除外）",
                enquiry_phone="12345",
                complaint_phone="12345",
                other_elements={"人生事件": life_events} if life_events else {},
            )
            entry = CatalogueEntryCreate(
                basic_code=basic,
                name=name,
                item_type=item_type,
                legal_basis=[f"《{name}》相关法律法规（演示数据，以正式目录清单为准）"],
            )
            yield DemoItem(entry=entry, item_code=f"{org.code}{level.value}{basic}", content=content)


_FORMS = {"网上办理": HandlingForm.ONLINE_COMPUTER, "窗口办理": HandlingForm.WINDOW}


def from_item(item: ItemCreate) -> DemoItem:
    """A demonstration item of the item-row era (``demo_items``) as a catalogue entry and version."""
    guide = dict(item.guide)
    known = {"办理地点", "办理时间", "咨询电话", "监督投诉电话", "办理形式", "办理流程", "结果名称"}
    content = ImplementationContent(
        basic_code=item.basic_code,
        exercise_level=region_level(item.region_code),
        implementing_org=Body(name=item.implementing_org.name, code=item.implementing_org.code),
        region_code=item.region_code,
        service_objects=list(dict.fromkeys(ServiceObject.from_label(o) for o in item.service_object)),
        case_type=item.case_type,
        handling_forms=[_FORMS[f] for f in guide.get("办理形式", ["窗口办理"])],
        scope=item.scope,
        conditions=list(item.conditions),
        materials=[
            Material(
                code=m.code,
                name=m.name,
                required=m.required,
                copies=m.copies,
                source=_SOURCES.get(m.source or "", MaterialSource.GOVERNMENT),
                source_notes="" if (m.source or "申请人自备") == "申请人自备" else (m.source or ""),
                instructions=m.notes or "",
            )
            for m in item.materials
        ],
        process=[ProcessStep(name=s) for s in guide.get("办理流程", [])],
        statutory_limit_days=item.statutory_limit_days,
        promised_limit_days=item.promised_limit_days,
        result_name=guide.get("结果名称", ""),
        place=guide.get("办理地点", ""),
        hours=guide.get("办理时间", ""),
        enquiry_phone=guide.get("咨询电话", ""),
        complaint_phone=guide.get("监督投诉电话", ""),
        form_schema=item.form_schema,
        other_elements={k: str(v) for k, v in guide.items() if k not in known},
    )
    entry = CatalogueEntryCreate(
        basic_code=item.basic_code,
        name=item.name,
        item_type=ItemType.from_label(item.item_type),
        legal_basis=list(item.legal_basis),
    )
    return DemoItem(entry=entry, item_code=item.item_code, content=content)


def demo_catalogue(size: str = "full") -> list[DemoItem]:
    """The demonstration catalogue, construction permit first (``minimal``: the three 住建局 items)."""
    full = [from_item(i) for i in demo_items()]
    return full if size == "minimal" else full + list(tsv_items(known=full))


SYSTEM = Principal(sub="system-demo", name="演示数据", kind="staff", roles=frozenset({service.CENTRE_ROLE}))


async def load_item(session: AsyncSession, item: DemoItem, *, source: str) -> bool:
    """Compile, draft, approve and publish one item unless the same content is in force.

    Returns:
        Whether a version was published.
    """
    await service.create_entry(session, item.entry, SYSTEM)
    repository = ItemVersionRepository.from_session(session)
    content = item.content.model_dump(mode="json")
    published = await repository.published(item.item_code)
    if published is not None and published.content == content:
        return False
    owner = SYSTEM.model_copy(update={"org_code": item.content.implementing_org.code})
    version = await service.create_version(
        session, VersionCreate(item_code=item.item_code, content=item.content), owner
    )
    await repository.update(version, update_dict={"status": APPROVED, "approved_by": SYSTEM.sub})
    await service.publish(session, item.item_code, version.version, None, source=source)
    return True


async def record_legacy_version(
    session: AsyncSession, item: ItemCreate, principal: Principal
) -> ItemVersion | None:
    """The item-row admin write (``PUT /items/{code}``) kept as a published 实施清单 version too,
    so that an item published that way has its 目录清单 entry, its history and its 办事指南.

    The item row and its event stay exactly what the caller sent (the old contract); the
    version holds the same elements in the catalogue's shape (:func:`from_item`). An item the
    catalogue cannot express (a free-text code, an unknown service object) keeps only its row,
    as before, and is logged.

    Returns:
        The published version, or None when the item has no catalogue form.
    """
    try:
        demo = from_item(item)
    except (ValidationError, ValueError, KeyError) as exc:
        log.warning(
            "item published without a catalogue version",
            extra={"item_code": item.item_code, "reason": str(exc)},
        )
        return None
    if len(item.item_code) > 36:
        log.warning("item code too long for the catalogue", extra={"item_code": item.item_code})
        return None
    entries = CatalogueEntryRepository.from_session(session)
    if await entries.get_by_id(demo.entry.basic_code) is None:
        await entries.create(
            CatalogueEntry(**demo.entry.model_dump(mode="json"), created_at=utcnow()), flush=True
        )
    versions = ItemVersionRepository.from_session(session)
    taken = await versions.get(item.item_code, item.version, for_update=True)
    if taken is not None:
        # The same version again (idempotent), or a number a draft already holds: left as it is.
        return taken if taken.status == PUBLISHED else None
    previous = await versions.published(item.item_code, for_update=True)
    if previous is not None:
        await versions.update(previous, update_dict={"status": SUPERSEDED}, flush=True)
    now = utcnow()
    version = ItemVersion(
        item_code=item.item_code,
        version=item.version,
        basic_code=demo.entry.basic_code,
        status=PUBLISHED,
        org_code=demo.content.implementing_org.code,
        region_code=demo.content.region_code,
        content=demo.content.model_dump(mode="json"),
        note="由事项发布接口（PUT /items）发布",
        created_by=principal.sub,
        created_at=now,
        approved_by=principal.sub,
        approved_at=now,
        published_at=now,
    )
    return await versions.create(version, flush=True)
