"""Sample events for the backbone tests: one licence registration, varied by case number."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from yiwang_common.contracts.datasharing import LicenceRegistered
from yiwang_common.events import EventEnvelope, make_event

LICENCE: dict[str, Any] = {
    "identifier": "1.2.156.3005.2.11100000000013338W032.11530428015176456L.1.001.X",
    "type_code": "11100000000013338W032",
    "type_name": "建筑工程施工许可证",
    "licence_no": "1",
    "holder_name": "张三",
    "holder_code": "530428199001011231",
    "holder_code_type": "111",
    "issuer": {"name": "元江县住房和城乡建设局", "code": "11530428015176456L"},
    "issued_on": "2026-11-23",
    "valid_from": "2026-11-23",
    "jurisdiction_code": "530428",
    "case_no": "530428202611230000017",
    "item_code": "X",
}


def licence_event(
    case_no: str = LICENCE["case_no"], *, source: str = "urn:yiwang:test:datasharing", **licence: Any
) -> EventEnvelope:
    """A ``licence.registered`` event for ``case_no`` (other licence fields overridable)."""
    data = LicenceRegistered.model_validate(
        {"licence": {**LICENCE, "case_no": case_no, **licence}, "registered_at": datetime.now(UTC)}
    )
    return make_event(data, source=source, subject=case_no)
