"""Hand-built sample payloads, one per event contract, for the round-trip tests in test_contracts.py."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from yiwang_common.contracts import business, datasharing, gateway, management
from yiwang_common.events import EventData

NOW = "2026-11-23T09:30:00+08:00"
CASE_NO = "530428202611230000017"
APPLICATION_ID = str(uuid.UUID("0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b"))
ORG = {"name": "元江县住房和城乡建设局", "code": "11530428015176456L"}
APPLICANT = {
    "account_id": "zhangsan",
    "name": "张三",
    "kind": "natural_person",
    "id_type": "111",
    "id_number": "530428199001011231",
}
MATERIAL = {
    "material_code": "M01",
    "name": "建筑工程施工许可证申请表",
    "sha256": hashlib.sha256(b"demo").hexdigest(),
    "size": 1024,
    "media_type": "application/pdf",
}
STEP = {
    "step_key": "accept",
    "step_name": "受理",
    "action": "pass",
    "handler_id": "chuangkou",
    "handler_name": "窗口受理人员",
    "started_at": NOW,
    "ended_at": NOW,
    "org": ORG,
}
DECISION = {
    "document_no": "元住建施许〔2026〕第000001号",
    "title": "准予行政许可决定书",
    "body": "经审查，准予行政许可。",
    "decided_at": NOW,
    "decider_name": "决策人员",
    "org": ORG,
}
LICENCE = {
    "identifier": "1.2.156.3005.2.11100000000013338W032.11530428015176456L.20261123000001.001.7",
    "type_code": "11100000000013338W032",
    "type_name": "建筑工程施工许可证",
    "licence_no": "530428202611230101",
    "holder_name": "张三",
    "holder_code": "530428199001011231",
    "holder_code_type": "111",
    "issuer": ORG,
    "issued_on": "2026-11-23",
    "valid_from": "2026-11-23",
    "jurisdiction_code": "530428",
    "case_no": CASE_NO,
    "item_code": "11530428015176456L4000111017000",
}
CASE = {"case_no": CASE_NO, "application_id": APPLICATION_ID}

PAYLOADS: dict[type[EventData], Callable[[], dict[str, Any]]] = {
    gateway.ApplicationSubmitted: lambda: {
        "application_id": APPLICATION_ID,
        "item_code": LICENCE["item_code"],
        "applicant": APPLICANT,
        "form": {"工程名称": "元江县城东安置房"},
        "materials": [MATERIAL],
        "submitted_at": NOW,
    },
    gateway.ApplicationSupplemented: lambda: {
        **CASE,
        "applicant_id": "zhangsan",
        "materials": [MATERIAL],
        "supplemented_at": NOW,
    },
    management.ItemPublished: lambda: {
        "item_code": LICENCE["item_code"],
        "basic_code": "000111017000",
        "name": "建筑工程施工许可证核发",
        "item_type": "行政许可",
        "version": 1,
        "implementing_org": ORG,
        "region_code": "530428",
        "materials": [{"code": "M01", "name": "建筑工程施工许可证申请表"}],
        "statutory_limit_days": 15,
        "promised_limit_days": 7,
        "published_at": NOW,
        "item_type_code": "01",
        "exercise_level": "4",
        "themes": ["规划建设"],
        "online": True,
    },
    management.ItemWithdrawn: lambda: {
        "item_code": LICENCE["item_code"],
        "version": 1,
        "name": "建筑工程施工许可证核发",
        "reason": "法律依据已废止",
        "withdrawn_at": NOW,
    },
    management.CaseRegistered: lambda: {
        **CASE,
        "item_code": LICENCE["item_code"],
        "item_name": "建筑工程施工许可证核发",
        "applicant": APPLICANT,
        "missing_materials": [{"code": "M02", "name": "施工合同"}],
        "registered_at": NOW,
    },
    management.CaseSupplementRequested: lambda: {
        **CASE,
        "applicant_id": "zhangsan",
        "notice_no": "元住建补〔2026〕1号",
        "missing_materials": [{"code": "M02", "name": "施工合同", "reason": "未提交"}],
        "notice_text": "请一次性补正以下材料：施工合同。",
        "handler_name": "窗口受理人员",
        "issued_at": NOW,
    },
    management.CaseAccepted: lambda: {
        **CASE,
        "item_code": LICENCE["item_code"],
        "item_name": "建筑工程施工许可证核发",
        "implementing_org": ORG,
        "applicant": APPLICANT,
        "form": {},
        "materials": [MATERIAL],
        "acceptance_notice_no": "元住建受〔2026〕1号",
        "handler_name": "窗口受理人员",
        "accepted_at": NOW,
        "clock_start": "2026-11-23",
        "promised_limit_days": 7,
        "due_date": "2026-12-02",
        "statutory_due_date": "2026-12-14",
        "step": STEP,
    },
    management.CaseRejected: lambda: {
        **CASE,
        "applicant_id": "zhangsan",
        "notice_no": "元住建不受〔2026〕1号",
        "reason": "不属于本机关职权范围",
        "handler_name": "窗口受理人员",
        "rejected_at": NOW,
        "step": STEP,
    },
    management.CaseCompleted: lambda: {
        **CASE,
        "applicant_id": "zhangsan",
        "item_code": LICENCE["item_code"],
        "outcome": "approved",
        "decision": DECISION,
        "licence": LICENCE,
        "completed_at": NOW,
        "due_date": "2026-12-02",
        "on_time": True,
        "working_days_used": 3,
        "steps": [STEP],
    },
    business.CaseStepCompleted: lambda: {**CASE, "step": STEP, "next_step_name": "决定"},
    business.CaseDecided: lambda: {
        **CASE,
        "item_code": LICENCE["item_code"],
        "outcome": "refused",
        "decision": {**DECISION, "title": "不予行政许可决定书"},
        "steps": [STEP],
    },
    datasharing.LicenceRegistered: lambda: {"licence": LICENCE, "registered_at": NOW},
    datasharing.LicenceStatusChanged: lambda: {
        "identifier": LICENCE["identifier"],
        "case_no": CASE_NO,
        "status": "revoked",
        "previous_status": "valid",
        "reason": "以欺骗手段取得许可",
        "changed_by": "赵六",
        "changed_at": NOW,
    },
}
