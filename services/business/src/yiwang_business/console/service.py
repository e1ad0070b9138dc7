"""What the handling pages show: the parallel view of a case and the choices of each step action."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.task.repository import CaseRepository
from yiwang_business.task.schemas import CaseView, TaskSchema
from yiwang_business.task.views import pause_name

ROLE_NAMES = {
    "receiver": "收件岗",
    "acceptor": "受理岗",
    "reviewer": "审查岗",
    "approver": "审批（决定）岗",
    "deliverer": "送达岗",
}
TASK_STATUS_NAMES = {"open": "待办", "done": "已办", "cancelled": "已取消"}
KIND_NAMES = {"review": "审查", "decide": "决定", "assist": "协办"}
CASE_STATUS_NAMES = {"in_progress": "办理中", "decided": "已决定", "withdrawn": "已撤回"}
DECISION_NAMES = {"approve": "同意", "refuse": "不同意"}
#: 办理日志 actions (CaseLogEntry.action) in Chinese.
ACTION_NAMES = {
    "return": "退回",
    "return_to_applicant": "退回补正",
    "correction": "补正",
    "transfer": "转办",
    "remind": "催办",
    "timer": "超时",
    "suspend": "挂起",
    "special": "特殊程序",
    "resume": "恢复",
    "withdraw": "撤回",
    "migrate": "版本迁移",
}


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


def return_targets(view: CaseView, task: TaskSchema) -> list[tuple[str, str]]:
    """Earlier steps of this case the task may send it back to (退回), then the applicant (补正)."""
    seen: dict[str, str] = {}
    for t in view.tasks:
        if t.status == "done" and t.kind != "assist" and t.step_key != task.step_key:
            seen.setdefault(t.step_key, t.step_name)
    return [*seen.items(), ("applicant", "申请人（退回补正）")]


def _latest_by_step(tasks: Sequence[TaskSchema]) -> dict[str, TaskSchema]:
    latest: dict[str, TaskSchema] = {}
    for t in tasks:  # oldest first: the last one of a step is its current round
        if t.kind != "assist":
            latest[t.step_key] = t
    return latest


async def parallel_branches(session: AsyncSession, view: CaseView) -> list[dict[str, Any]]:
    """并联 Each parallel split of the case's workflow, with each branch's step, post and state."""
    case = await CaseRepository.from_session(session).get(view.case_no)
    if case is None:
        return []
    workflow = case.workflow
    steps = {s["key"]: s for s in workflow.get("steps", [])}
    flows = workflow.get("flows") or []
    latest = _latest_by_step(view.tasks)
    splits = []
    for gateway in workflow.get("gateways", []):
        if gateway.get("type") != "parallel":
            continue
        targets = [f["target"] for f in flows if f["source"] == gateway["key"]]
        if len(targets) < 2:
            continue  # a join, not a split
        branches = []
        for key in targets:
            step = steps.get(key)
            task = latest.get(key)
            branches.append(
                {
                    "step_key": key,
                    "step_name": step["name"] if step else key,
                    "post": role_name(step["role"]) if step else "",
                    "state": TASK_STATUS_NAMES[task.status] if task else "未开始",
                    "state_code": task.status if task else "pending",
                    "handler": task.handler_name if task else None,
                    "opinion": task.opinion if task else None,
                    "due": task.step_due_date if task else None,
                    "task_id": task.id if task else None,
                }
            )
        splits.append(
            {"key": gateway["key"], "name": gateway.get("name") or gateway["key"], "branches": branches}
        )
    return splits


def clock_text(view: CaseView) -> str:
    return "计时中" if view.clock is None else f"计时暂停（{pause_name(view.clock)}）"
