"""Build the guide of an item from its published version (the elements of GUI-01 and 六公开)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.codes import REGIONS, ItemType
from yiwang_management.catalogue.models import CatalogueEntry, ItemVersion
from yiwang_management.catalogue.repository import CatalogueEntryRepository, ItemVersionRepository
from yiwang_management.catalogue.schemas import ImplementationContent, Material
from yiwang_management.guide.errors import GuideNotFound
from yiwang_management.guide.schemas import Guide, GuideElement, GuideHandlingItem, GuideMaterial


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _material(m: Material) -> GuideMaterial:
    return GuideMaterial(
        code=m.code,
        name=m.name,
        required=m.required,
        material_type=m.material_type.label,
        source=m.source.label,
        source_notes=m.source_notes,
        copies=m.copies,
        paper_format=m.paper_format,
        electronic_required=m.electronic_required,
        sample_ref=m.sample_ref,
        blank_form_ref=m.blank_form_ref,
        acceptance_standard=m.acceptance_standard,
        instructions=m.instructions,
        legal_basis=m.legal_basis,
        shareable=m.shareable,
    )


def build_guide(entry: CatalogueEntry, version: ItemVersion) -> Guide:
    """The guide document of one published version; empty optional elements are left out."""
    content = ImplementationContent.model_validate(version.content)
    org = content.implementing_org
    limits = [f"法定办结时限：{content.statutory_limit_days} 个工作日"]
    limits.append(f"承诺办结时限：{content.promised_limit_days} 个工作日")
    if content.limit_notes:
        limits.append(content.limit_notes)
    fees = [f"{f.name}：{f.standard}" + ("（可减免）" if f.reducible else "") for f in content.fees]
    elements: list[tuple[str, list[str]]] = [
        # The order of GUI-01; 六公开 (部门, 事项, 程序, 材料, 时限, 收费) are all among them.
        ("事项名称", [entry.name]),
        ("事项类型", [ItemType.of(entry.item_type).label]),
        ("基本编码", [entry.basic_code]),
        ("实施编码", [version.item_code]),
        ("设定依据", list(entry.legal_basis)),
        ("实施主体", [f"{org.name}（统一社会信用代码 {org.code}）"]),
        ("实施主体性质", [content.body_nature.label]),
        ("委托部门", [content.commissioning_org.name] if content.commissioning_org else []),
        ("联办机构", [b.name for b in content.co_handling_orgs]),
        ("行使层级", [content.exercise_level.label]),
        ("服务对象", [o.label for o in content.service_objects]),
        ("办件类型", [content.case_type.label]),
        ("受理范围", [content.scope]),
        ("受理条件", list(content.conditions)),
        ("办结时限", limits),
        ("特别程序", [p.label for p in content.special_procedures]),
        ("数量限制", [content.quantity_limit]),
        ("中介服务", list(content.intermediary_services)),
        ("结果名称", [content.result_name]),
        ("结果样本", [content.result_sample_ref]),
        ("收费标准", fees or ["不收费"]),
        ("收费依据", [f.basis for f in content.fees]),
        ("办理流程", [s.name + (f"：{s.description}" if s.description else "") for s in content.process]),
        ("办理形式", [f.label for f in content.handling_forms]),
        ("网办地址", [str(content.online_url)] if content.online_url else []),
        ("到办事现场次数", [content.visits.label] if content.visits else []),
        ("审查标准", [content.review_standard]),
        ("通办范围", [content.cross_region_scope.label] if content.cross_region_scope else []),
        ("预约办理", [_yes(content.appointment)]),
        ("网上支付", [_yes(content.online_payment)]),
        ("物流快递", [_yes(content.delivery)]),
        ("办理地点", [content.place]),
        ("办理时间", [content.hours]),
        ("咨询电话", [content.enquiry_phone]),
        ("监督投诉电话", [content.complaint_phone]),
        *((k, [v]) for k, v in content.other_elements.items()),
        *((f"问：{f.question}", [f.answer]) for f in content.faq),
    ]
    names = {m.code: m.name for m in content.materials}
    return Guide(
        item_code=version.item_code,
        basic_code=entry.basic_code,
        version=version.version,
        name=entry.name,
        implementing_org=org.name,
        implementing_org_code=org.code,
        region_code=content.region_code,
        region_name=REGIONS.get(content.region_code),
        published_at=version.published_at or version.created_at,
        elements=[
            GuideElement(key=key, lines=kept)
            for key, lines in elements
            if (kept := [line for line in lines if line])
        ],
        materials=[_material(m) for m in content.materials],
        handling_items=[
            GuideHandlingItem(code=h.code, name=h.name, materials=[names[c] for c in h.material_codes])
            for h in content.handling_items
        ],
    )


async def get_guide(session: AsyncSession, item_code: str) -> Guide:
    """The guide of the version in force, or ``GuideNotFound``."""
    version = await ItemVersionRepository.from_session(session).published(item_code)
    entry = (
        await CatalogueEntryRepository.from_session(session).get_by_id(version.basic_code)
        if version
        else None
    )
    if version is None or entry is None:
        raise GuideNotFound(f"事项 {item_code} 没有已发布的办事指南")
    return build_guide(entry, version)
