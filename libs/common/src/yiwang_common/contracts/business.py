"""Events the business-handling system (业务办理系统) publishes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from yiwang_common.contracts.common import AuditFields, DecisionDocument, ELicence, StepRecord
from yiwang_common.events.envelope import EventData


class CaseStepCompleted(EventData):
    """环节已办理: a workflow step finished and the case moved on (process information)."""

    subject = "yiwang.business.case.step_completed.v1"

    case_no: str
    application_id: uuid.UUID
    step: StepRecord
    next_step_name: str | None = Field(default=None, description="下一环节名称")
    # Added for e-supervision (电子监察): the next step's limit, so management can warn per step.
    next_step_key: str | None = Field(default=None, description="下一环节编码")
    next_step_due_date: date | None = Field(
        default=None,
        description="下一环节办理时限到期日 (工作日计算, Asia/Shanghai 日期); absent: no step limit",
    )


class CaseDecided(EventData):
    """已作出决定: approved with a decision and an e-licence, or refused with reasons."""

    subject = "yiwang.business.case.decided.v1"

    case_no: str
    application_id: uuid.UUID
    item_code: str
    outcome: Literal["approved", "refused"]
    decision: DecisionDocument
    licence: ELicence | None = None
    steps: list[StepRecord] = Field(
        min_length=1, description="Every step this system handled for the case, in order; the last is 决定"
    )


class AuditRecorded(AuditFields, EventData):
    """审计事件: something the audit log (data-sharing) must keep — a sign-in, a failed one, a
    permission change, a read of personal data (ADR 0105)."""

    subject = "yiwang.business.audit.recorded.v1"
