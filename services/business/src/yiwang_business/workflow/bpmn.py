"""BPMN 2.0 导入 Import of the subset of BPMN 2.0 that Activiti/Flowable models use.

Supported inside the one ``process``: ``startEvent`` (one, plain), ``endEvent``, ``userTask`` with
``assignee`` or ``candidateGroups`` naming a post (Activiti, Flowable and Camunda attributes),
``exclusiveGateway`` (with ``default``), ``parallelGateway``, ``sequenceFlow`` with a
``conditionExpression``, and a ``boundaryEvent`` with a ``timerEventDefinition`` whose
``timeDuration`` is whole days (``P5D``: the step's time limit in working days; interrupting =
escalate 督办, non-interrupting = remind 提醒). Everything else that executes is refused with its
element id and the reason; diagram interchange (``bpmndi``), documentation, lanes and annotations
are ignored. The XML is parsed with defusedxml: no DTD, no entity expansion, no external entities.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from hashlib import sha1
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from pydantic import ValidationError

from yiwang_business.workflow.errors import InvalidBpmn
from yiwang_business.workflow.schemas import END, NODE_KEY_PATTERN, START, WorkflowBody

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ENGINE_NAMESPACES = (
    "http://flowable.org/bpmn",
    "http://activiti.org/bpmn",
    "http://camunda.org/schema/1.0/bpmn",
)
ROLES = ("receiver", "acceptor", "reviewer", "approver", "deliverer")
#: Largest model accepted (bytes); real agency models are well below.
MAX_BYTES = 2_000_000

#: Elements that carry no behaviour: ignored.
_PASSIVE = {
    "documentation",
    "extensionElements",
    "incoming",
    "outgoing",
    "laneSet",
    "textAnnotation",
    "association",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
}
_UNSUPPORTED = {
    "scriptTask": "脚本任务不受支持 (scriptTask: the engine runs no scripts)",
    "serviceTask": "服务任务不受支持 (serviceTask: use events to other systems instead)",
    "sendTask": "发送任务不受支持 (sendTask)",
    "receiveTask": "接收任务不受支持 (receiveTask)",
    "businessRuleTask": "规则任务不受支持 (businessRuleTask)",
    "manualTask": "手工任务不受支持 (manualTask: model it as a userTask)",
    "task": "未指定类型的任务不受支持 (task: model it as a userTask)",
    "inclusiveGateway": "包容网关不受支持 (inclusiveGateway: use exclusive or parallel gateways)",
    "eventBasedGateway": "事件网关不受支持 (eventBasedGateway)",
    "complexGateway": "复杂网关不受支持 (complexGateway)",
    "subProcess": "子流程不受支持 (subProcess: flatten it into the main process)",
    "adHocSubProcess": "子流程不受支持 (adHocSubProcess)",
    "transaction": "事务子流程不受支持 (transaction)",
    "callActivity": "调用活动不受支持 (callActivity)",
    "intermediateCatchEvent": "中间捕获事件不受支持 (intermediateCatchEvent)",
    "intermediateThrowEvent": "中间抛出事件不受支持 (intermediateThrowEvent)",
}
_DURATION = re.compile(r"^P(\d{1,3})D$")


@dataclass(frozen=True)
class Imported:
    """What the import made: the process's steps, gateways and flows (a ``WorkflowBody`` part)."""

    process_id: str
    name: str
    steps: list[dict[str, Any]]
    gateways: list[dict[str, Any]]
    flows: list[dict[str, Any]]


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _engine_attr(el: ET.Element, name: str) -> str | None:
    for ns in ENGINE_NAMESPACES:
        value = el.get(f"{{{ns}}}{name}")
        if value is not None:
            return value
    return None


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, element_id: str | None, reason: str) -> None:
        self.items.append({"element_id": element_id or "?", "reason": reason})

    def raise_if_any(self) -> None:
        if self.items:
            detail = "; ".join(f"{e['element_id']}: {e['reason']}" for e in self.items[:5])
            raise InvalidBpmn(detail, errors=self.items[:100])


def parse_bpmn(xml: bytes) -> Imported:
    """Turn a BPMN 2.0 model into steps, gateways and flows; refuse what the engine cannot run."""
    if len(xml) > MAX_BYTES:
        raise InvalidBpmn(f"模型超过 {MAX_BYTES} 字节 (the model is too large)")
    try:
        root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InvalidBpmn(
            f"模型含有被禁止的 XML 结构 (DTD or entities are not allowed): {type(exc).__name__}"
        ) from exc
    except (ParseError, ValueError, LookupError) as exc:
        # LookupError: an unknown encoding in the XML declaration.
        raise InvalidBpmn(f"XML 无法解析 (not well-formed XML): {exc}") from exc
    if _local(root.tag) != (BPMN, "definitions"):
        raise InvalidBpmn("根元素必须是 BPMN 2.0 的 definitions (the root must be bpmn:definitions)")
    processes = [el for el in root if _local(el.tag) == (BPMN, "process")]
    if len(processes) != 1:
        raise InvalidBpmn(f"模型必须恰好包含一个 process，实际为 {len(processes)} (exactly one process)")
    return _process(processes[0])


def _key(element_id: str, used: dict[str, str]) -> str:
    """A step or gateway key from a BPMN id: the id itself where it fits, else a stable short form."""
    key = element_id if re.match(NODE_KEY_PATTERN, element_id) and element_id not in (START, END) else None
    if key is None:
        slug = re.sub(r"[^A-Za-z0-9_]", "_", element_id)[:20].strip("_") or "n"
        if not re.match(r"^[A-Za-z_]", slug):
            slug = "n_" + slug[:18]
        key = f"{slug}_{sha1(element_id.encode()).hexdigest()[:8]}"
    used[element_id] = key
    return key


def _process(process: ET.Element) -> Imported:
    errors = _Errors()
    keys: dict[str, str] = {}
    starts: list[str] = []
    ends: set[str] = set()
    tasks: dict[str, dict[str, Any]] = {}
    gateways: dict[str, dict[str, Any]] = {}
    defaults: dict[str, str] = {}
    flows: list[tuple[str, str, str, str | None]] = []
    timers: list[tuple[str, ET.Element]] = []
    for el in process:
        ns, tag = _local(el.tag)
        eid = el.get("id")
        if ns != BPMN or tag in _PASSIVE:
            continue
        if tag in _UNSUPPORTED:
            errors.add(eid, _UNSUPPORTED[tag])
        elif eid is None:
            errors.add(None, f"{tag} 缺少 id (every element needs an id)")
        elif tag == "startEvent":
            if any(_local(c.tag)[1].endswith("EventDefinition") for c in el):
                errors.add(eid, "带事件定义的开始事件不受支持 (only a plain start event)")
            starts.append(eid)
        elif tag == "endEvent":
            if any(_local(c.tag)[1].endswith("EventDefinition") for c in el):
                errors.add(eid, "带事件定义的结束事件不受支持 (only a plain end event)")
            ends.add(eid)
        elif tag == "userTask":
            step = _user_task(el, eid, errors)
            if step is not None:
                step["key"] = _key(eid, keys)
                tasks[eid] = step
        elif tag in ("exclusiveGateway", "parallelGateway"):
            gateways[eid] = {
                "key": _key(eid, keys),
                "type": "exclusive" if tag == "exclusiveGateway" else "parallel",
                "name": (el.get("name") or "").strip()[:50] or None,
            }
            if el.get("default"):
                defaults[eid] = el.get("default") or ""
        elif tag == "sequenceFlow":
            source, target = el.get("sourceRef"), el.get("targetRef")
            if not source or not target:
                errors.add(eid, "顺序流缺少 sourceRef 或 targetRef")
                continue
            condition = None
            for child in el:
                if _local(child.tag) == (BPMN, "conditionExpression"):
                    condition = (child.text or "").strip() or None
            flows.append((eid, source, target, condition))
        elif tag == "boundaryEvent":
            timers.append((eid, el))
        else:
            errors.add(eid, f"不支持的元素 {tag} (unsupported element)")
    if len(starts) != 1:
        errors.add(process.get("id"), f"需要恰好一个开始事件，实际为 {len(starts)} (exactly one startEvent)")
    if not ends:
        errors.add(process.get("id"), "缺少结束事件 (no endEvent)")
    for eid, el in timers:
        _timer(el, eid, tasks, errors)
    # A timer's own outgoing flow is replaced by the reminder/escalation event (ADR 0106).
    boundary = {eid for eid, _ in timers}
    flows = [f for f in flows if f[1] not in boundary]
    errors.raise_if_any()

    def ref(eid: str) -> str | None:
        if eid in starts:
            return START
        if eid in ends:
            return END
        if eid in tasks:
            return str(tasks[eid]["key"])
        if eid in gateways:
            return str(gateways[eid]["key"])
        return None

    out_flows: list[dict[str, Any]] = []
    to_end: set[str] = set()
    for fid, source, target, condition in flows:
        s, t = ref(source), ref(target)
        if s is None:
            errors.add(fid, f"sourceRef {source} 不是受支持的元素 (unknown or unsupported source)")
            continue
        if t is None:
            errors.add(fid, f"targetRef {target} 不是受支持的元素 (unknown or unsupported target)")
            continue
        flow: dict[str, Any] = {"source": s, "target": t, "condition": condition}
        if defaults.get(source) == fid:
            flow["default"] = True
            flow["condition"] = None
        if t == END and source in tasks:
            to_end.add(source)
        out_flows.append(flow)
    errors.raise_if_any()
    # The steps that end the process decide (决定); every other step reviews.
    for eid, step in tasks.items():
        step["kind"] = "decide" if eid in to_end else "review"
    return Imported(
        process_id=process.get("id") or "",
        name=process.get("name") or "",
        steps=list(tasks.values()),
        gateways=list(gateways.values()),
        flows=out_flows,
    )


def _user_task(el: ET.Element, eid: str, errors: _Errors) -> dict[str, Any] | None:
    groups = [g.strip() for g in (_engine_attr(el, "candidateGroups") or "").split(",") if g.strip()]
    assignee = (_engine_attr(el, "assignee") or "").strip()
    for child in el:
        if _local(child.tag)[1] == "multiInstanceLoopCharacteristics":
            errors.add(eid, "多实例任务不受支持 (multiInstanceLoopCharacteristics: use a parallel gateway)")
            return None
    roles = [g for g in groups if g in ROLES]
    if groups and len(roles) != len(groups):
        unknown = ", ".join(g for g in groups if g not in ROLES)
        errors.add(eid, f"candidateGroups 中的 {unknown} 不是岗位 (posts are {', '.join(ROLES)})")
        return None
    if len(roles) > 1:
        errors.add(eid, "只支持一个 candidateGroups 岗位 (one post per step; model 协办 in the definition)")
        return None
    if not roles:
        if assignee in ROLES:
            roles = [assignee]
        else:
            reason = f"assignee {assignee} 不是岗位" if assignee else "缺少 assignee 或 candidateGroups"
            errors.add(eid, f"{reason} (a step is handled by a post: {', '.join(ROLES)})")
            return None
    return {"name": (el.get("name") or eid)[:50], "role": roles[0]}


def _timer(el: ET.Element, eid: str, tasks: dict[str, dict[str, Any]], errors: _Errors) -> None:
    attached = el.get("attachedToRef") or ""
    definitions = [c for c in el if _local(c.tag)[1].endswith("EventDefinition")]
    if len(definitions) != 1 or _local(definitions[0].tag) != (BPMN, "timerEventDefinition"):
        errors.add(eid, "只支持定时边界事件 (only a boundary timerEventDefinition)")
        return
    if attached not in tasks:
        errors.add(eid, f"边界定时器必须附着在 userTask 上 (attachedToRef {attached} is not a userTask)")
        return
    duration = next((c for c in definitions[0] if _local(c.tag) == (BPMN, "timeDuration")), None)
    match = _DURATION.match((duration.text or "").strip()) if duration is not None else None
    if match is None or int(match.group(1)) < 1:
        errors.add(
            eid, "定时器只支持以天计的 timeDuration，如 P5D (timeDate and timeCycle are not supported)"
        )
        return
    interrupting = (el.get("cancelActivity") or "true").lower() != "false"
    tasks[attached]["time_limit_days"] = int(match.group(1))
    tasks[attached]["timer"] = {"action": "escalate" if interrupting else "remind"}


def bpmn_body(base: dict[str, Any], imported: Imported) -> WorkflowBody:
    """A definition from an imported process and the item's other settings (``base``)."""
    try:
        return WorkflowBody.model_validate(
            {**base, "steps": imported.steps, "gateways": imported.gateways, "flows": imported.flows}
        )
    except ValidationError as exc:
        errors = [
            {"element_id": _element(e["loc"], imported), "reason": str(e["msg"])} for e in exc.errors()[:100]
        ]
        raise InvalidBpmn(
            "; ".join(f"{e['element_id']}: {e['reason']}" for e in errors[:5]), errors=errors
        ) from None


def _element(loc: tuple[Any, ...], imported: Imported) -> str:
    if len(loc) >= 2 and loc[0] in ("steps", "gateways") and isinstance(loc[1], int):
        nodes = imported.steps if loc[0] == "steps" else imported.gateways
        if loc[1] < len(nodes):
            return str(nodes[loc[1]].get("key", "?"))
    return ".".join(str(p) for p in loc)
