"""Demonstration data: the workflow of 建筑工程施工许可证核发 at 元江县住房和城乡建设局."""

from __future__ import annotations

from yiwang_business.config import Settings
from yiwang_business.workflow.models import WorkflowDefinition
from yiwang_business.workflow.repository import WorkflowRepository
from yiwang_common.db import create_engine, create_sessionmaker, session_scope, utcnow

#: 实施编码 of 建筑工程施工许可证核发 in management's demo catalogue.
CONSTRUCTION_PERMIT_ITEM_CODE = "11530428015176456L2000109003000"

# The spec's example 证照类型代码 of 住房和城乡建设部 (type 032); configurable per item through PUT /workflows.
CONSTRUCTION_PERMIT_TYPE_CODE = "11100000000013338W032"

CONSTRUCTION_PERMIT_WORKFLOW = {
    "version": 1,
    "steps": [
        {"key": "review", "name": "审查", "role": "reviewer", "kind": "review"},
        {"key": "decide", "name": "决定", "role": "approver", "kind": "decide"},
    ],
    "licence_type_code": CONSTRUCTION_PERMIT_TYPE_CODE,
    "licence_type_name": "建筑工程施工许可证",
    # 施工许可证 has no fixed term (it lapses if work does not start within three months).
    "licence_validity_days": None,
    "decision_doc_prefix": "元住建许",
    # Form field names vary between catalogue versions; the first one present is printed.
    "licence_fields": {
        # Keys of management's application form for this item (its form_schema properties).
        "工程名称": ["工程名称"],
        "建设地址": ["建设地址"],
        "建设规模": ["建设规模"],
        "合同价格": ["合同价格"],
        "建设单位": ["建设单位"],
        "施工单位": ["施工单位"],
        "监理单位": ["监理单位"],
        "合同工期": ["计划开工日期", "计划竣工日期"],
    },
}


async def load_demo(settings: Settings) -> None:
    """Store the demo workflow unless the item already has one (idempotent; never overwrites edits)."""
    engine = create_engine(settings.database)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            repo = WorkflowRepository.from_session(session)
            if await repo.get(CONSTRUCTION_PERMIT_ITEM_CODE) is None:
                await repo.create(
                    WorkflowDefinition(
                        item_code=CONSTRUCTION_PERMIT_ITEM_CODE,
                        updated_at=utcnow(),
                        **CONSTRUCTION_PERMIT_WORKFLOW,
                    )
                )
    finally:
        await engine.dispose()
