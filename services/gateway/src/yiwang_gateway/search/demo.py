"""The demo catalogue (演示事项目录): real item names of 云南省, 玉溪市 and 元江县 as ItemPublished.

``data/demo_catalogue.tsv`` holds one item per line (columns in its header). Codes are made up but
shaped like the real ones: the 统一社会信用代码 of a department is stable per department name, the
实施编码 is that code + a basic code + a sequence.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from yiwang_common.contracts.common import MaterialRequirement, Organisation
from yiwang_common.contracts.management import ItemPublished

DEMO_CATALOGUE = Path(__file__).parent / "data" / "demo_catalogue.tsv"
REGION_NAMES = {"530000": "云南省", "530400": "玉溪市", "530428": "元江县"}
_BASE32 = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def org_code(department: str, region: str) -> str:
    """A code shaped like a 统一社会信用代码 (机关 11 + region + 9 + check-like character)."""
    digest = hashlib.sha256(department.encode()).digest()
    body = "".join(_BASE32[b % len(_BASE32)] for b in digest[:9])
    return f"11{region}{body}{_BASE32[digest[9] % len(_BASE32)]}"


def _split(value: str) -> list[str]:
    return [v for v in value.split("、") if v]


def demo_items(path: Path = DEMO_CATALOGUE) -> list[ItemPublished]:
    items = []
    for seq, line in enumerate(
        (raw for raw in path.read_text(encoding="utf-8").splitlines() if raw and not raw.startswith("#")),
        start=1,
    ):
        (
            region,
            dept,
            item_type,
            name,
            objects,
            themes,
            events,
            promised,
            statutory,
            online,
            fee,
            materials,
            cond,
        ) = line.split("\t")
        org = Organisation(name=dept, code=org_code(dept, region))
        basic = f"{seq:06d}000000"
        items.append(
            ItemPublished(
                item_code=f"{org.code}{basic}{seq:03d}",
                basic_code=basic,
                name=name,
                item_type=item_type,
                version=1,
                implementing_org=org,
                region_code=region,
                service_object=_split(objects),
                scope=f"{REGION_NAMES.get(region, region)}行政区域内",
                conditions=[cond],
                materials=[
                    MaterialRequirement(code=f"M{k:02d}", name=m) for k, m in enumerate(_split(materials), 1)
                ],
                statutory_limit_days=int(statutory),
                promised_limit_days=int(promised),
                case_type="1" if promised == "1" else "2",
                fee=fee,
                guide={
                    "主题分类": _split(themes),
                    "人生事件": _split(events),
                    "是否网办": online,
                    "办理地点": f"{REGION_NAMES.get(region, region)}政务服务中心{dept}窗口",
                },
                published_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )
    return items
