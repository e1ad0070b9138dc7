"""流程图 A server-side SVG diagram of a definition: columns by distance from the start, no JavaScript."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from yiwang_business.workflow.schemas import END, START, WorkflowBody

ROLE_NAMES = {
    "receiver": "收件",
    "acceptor": "受理",
    "reviewer": "审查",
    "approver": "决定",
    "deliverer": "送达",
}
COL, ROW, BOX_W, BOX_H, PAD = 190, 90, 150, 52, 30


def _flows(body: WorkflowBody) -> list[dict[str, Any]]:
    if body.flows is not None:
        return [f.model_dump() for f in body.flows]
    keys = [START, *(s.key for s in body.steps), END]
    return [
        {"source": a, "target": b, "condition": None, "default": False}
        for a, b in zip(keys, keys[1:], strict=False)
    ]


def _columns(nodes: list[str], flows: list[dict[str, Any]]) -> dict[str, int]:
    """Longest distance from the start over forward flows (a flow back to a placed node is a loop)."""
    column = {START: 0}
    order = [START]
    for key in order:
        for f in flows:
            if f["source"] == key and f["target"] not in column:
                column[f["target"]] = column[key] + 1
                order.append(f["target"])
    for key in nodes:
        column.setdefault(key, 0)
    last = max(column.values(), default=0)
    column[END] = max(column.get(END, 0), last)
    return column


def render_svg(body: WorkflowBody, *, title: str = "") -> str:
    """Render the definition as a standalone SVG document."""
    steps = {s.key: s for s in body.steps}
    gateways = {g.key: g for g in body.gateways}
    flows = _flows(body)
    nodes = [START, *steps, *gateways, END]
    column = _columns(nodes, flows)
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for key in nodes:
        c = column[key]
        r = rows.get(c, 0)
        rows[c] = r + 1
        pos[key] = (PAD + c * COL + BOX_W // 2, PAD + 30 + r * ROW + BOX_H // 2)
    width = PAD * 2 + (max(column.values()) + 1) * COL
    height = PAD * 2 + 30 + max(rows.values()) * ROW
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title or "流程图")}" '
        'font-family="sans-serif" font-size="13">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>',
        f"<title>{escape(title or '流程图')}</title>",
        f'<text x="{PAD}" y="{PAD}" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for f in flows:
        (x1, y1), (x2, y2) = pos[f["source"]], pos[f["target"]]
        x1 += _half(f["source"], steps)
        x2 -= _half(f["target"], steps)
        dash = ' stroke-dasharray="5,4"' if column[f["target"]] <= column[f["source"]] else ""
        out.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#444" marker-end="url(#arrow)"{dash}/>'
        )
        label = f["condition"] or ("默认" if f.get("default") else "")
        if label:
            out.append(
                f'<text x="{(x1 + x2) // 2}" y="{(y1 + y2) // 2 - 6}" text-anchor="middle" fill="#7a3e00" '
                f'font-size="11">{escape(label[:40])}</text>'
            )
    for key, (x, y) in pos.items():
        if key in (START, END):
            stroke = 1 if key == START else 3
            out.append(
                f'<circle cx="{x}" cy="{y}" r="16" fill="#fff" stroke="#222" stroke-width="{stroke}"/>'
            )
            out.append(
                f'<text x="{x}" y="{y + 34}" text-anchor="middle">{"开始" if key == START else "结束"}</text>'
            )
        elif key in gateways:
            g = gateways[key]
            out.append(
                f'<polygon points="{x},{y - 24} {x + 24},{y} {x},{y + 24} {x - 24},{y}" fill="#fffbe6" stroke="#a67c00"/>'
            )
            out.append(
                f'<text x="{x}" y="{y + 6}" text-anchor="middle" font-size="18">{"+" if g.type == "parallel" else "×"}</text>'
            )
            if g.name:
                out.append(f'<text x="{x}" y="{y + 40}" text-anchor="middle">{escape(g.name)}</text>')
        else:
            s = steps[key]
            fill = "#e8f0fe" if s.kind == "review" else "#e6f4ea"
            out.append(
                f'<rect x="{x - BOX_W // 2}" y="{y - BOX_H // 2}" width="{BOX_W}" height="{BOX_H}" rx="8" '
                f'fill="{fill}" stroke="#1a4d8f"/>'
            )
            out.append(
                f'<text x="{x}" y="{y - 4}" text-anchor="middle" font-weight="bold">{escape(s.name)}</text>'
            )
            extra = ROLE_NAMES.get(s.role, s.role)
            if s.time_limit_days:
                extra += f" · {s.time_limit_days}个工作日"
            if s.assists:
                extra += f" · 协办{len(s.assists)}"
            out.append(
                f'<text x="{x}" y="{y + 14}" text-anchor="middle" font-size="11">{escape(extra)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


def _half(key: str, steps: Mapping[str, Any]) -> int:
    if key in (START, END):
        return 16
    return BOX_W // 2 if key in steps else 24
