"""Events the business-handling system (业务办理系统) publishes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from yiwang_contracts.common import AuditFields, DecisionDocument, ELicence, StepRecord
from yiwang_contracts.envelope import EventData


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


#: Why a case's clock stands still (计时暂停): 挂起, 补正 (with the applicant), or a 特殊程序.
PauseKind = Literal["suspended", "with_applicant", "hearing", "testing", "expert_review", "site_inspection"]


class CaseReturned(EventData):
    """已退回: a step sent the case back to an earlier step, or to the applicant for correction (补正)."""

    subject = "yiwang.business.case.returned.v1"

    case_no: str
    application_id: uuid.UUID
    from_step_name: str = Field(description="退回的环节")
    to_step_name: str | None = Field(default=None, description="退回到的环节; empty when to the applicant")
    to_applicant: bool = Field(
        description="True: 退回申请人补正, the clock stands still until the correction"
    )
    reason: str = Field(description="退回原因")
    handler_name: str


class CaseClockPaused(EventData):
    """计时暂停: the case is suspended (挂起), with the applicant (补正) or in a special procedure (特殊程序).

    ``notify_applicant`` says the applicant is to be told (special procedures and corrections).
    """

    subject = "yiwang.business.case.clock_paused.v1"

    case_no: str
    application_id: uuid.UUID
    kind: PauseKind
    kind_name: str = Field(description="挂起 / 补正 / 听证 / 检验检测 / 专家评审 / 现场勘验")
    reason: str
    notify_applicant: bool
    paused_at: datetime


class CaseClockResumed(EventData):
    """计时恢复: the clock runs again; the due date moved by the working days it stood still."""

    subject = "yiwang.business.case.clock_resumed.v1"

    case_no: str
    application_id: uuid.UUID
    kind: PauseKind
    reason: str
    paused_working_days: int = Field(ge=0, description="暂停的工作日数")
    due_date: date = Field(description="新的承诺办结日期")
    resumed_at: datetime


class TaskTransferred(EventData):
    """已转办: a task was handed to another post or department."""

    subject = "yiwang.business.task.transferred.v1"

    case_no: str
    task_id: uuid.UUID
    step_name: str
    from_role: str
    from_org_code: str
    to_role: str
    to_org_code: str
    reason: str
    handler_name: str


class TaskReminded(EventData):
    """已催办: someone reminded the holders of an open task (催办), or its step's timer did (超时提醒/督办)."""

    subject = "yiwang.business.task.reminded.v1"

    case_no: str
    task_id: uuid.UUID
    step_name: str
    role: str
    org_code: str
    due_date: date | None = Field(default=None, description="环节时限")
    escalate: bool = Field(description="True: 督办 (escalation to supervision), False: 提醒")
    by_timer: bool = Field(description="True when the step's boundary timer fired")
    message: str
    reminders: int = Field(ge=1, description="How many reminders the task has had")


class CaseWithdrawn(EventData):
    """已撤回: the applicant withdrew the application before a decision."""

    subject = "yiwang.business.case.withdrawn.v1"

    case_no: str
    application_id: uuid.UUID
    reason: str
    withdrawn_at: datetime


class WorkflowMigrated(EventData):
    """流程版本迁移: running cases of an item were moved to another version of its process (logged)."""

    subject = "yiwang.business.workflow.migrated.v1"

    migration_id: uuid.UUID
    item_code: str
    from_version: int
    to_version: int
    case_nos: list[str]
    reason: str
    actor_name: str
