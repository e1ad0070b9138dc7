"""The authorisation matrix 权限矩阵: every endpoint × role × unit × region → allow / deny.

Read from the routes of the four apps themselves (their dependencies), never written by hand:

- no token dependency → public (公开);
- a token dependency (``current_principal``) → anonymous callers get 401;
- a role dependency (``require_role``) → callers without one of its roles get 403;
- a read of personal data (the ``access_reason`` dependency, ADR 0105) → the data scope of each
  role: an applicant their own cases (an agent also the company's), handling staff their unit's
  in their region, a supervisor their region's, an administrator their region's only with a
  reason (查阅事由; without one 403 ``reason_required``);
- routes that declare ``openapi_extra={"x-access-scope": …}`` state their scope the same way
  (``unit-region`` for actions on a unit's cases, ``region`` for administration and supervision).

``tests/test_authorization_matrix.py`` sends a real token of every role to every endpoint of the
real apps and checks each cell, and fails when ``docs/authorization-matrix.md`` is stale.

Usage::

    uv run python -m scripts.authz_matrix            # (re)write docs/authorization-matrix.md
    uv run python -m scripts.authz_matrix --check    # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts

from yiwang_common.access import HANDLING_ROLES, access_reason
from yiwang_common.auth import (
    ROLE_ACCEPTOR,
    ROLE_ADMIN,
    ROLE_APPLICANT,
    ROLE_APPROVER,
    ROLE_DELIVERER,
    ROLE_RECEIVER,
    ROLE_REVIEWER,
    ROLE_SUPERVISOR,
    Principal,
    current_principal,
)
from yiwang_common.http.openapi import REQUIRES_ROLE
from yiwang_common.testing import ephemeral_auth

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "authorization-matrix.md"

#: The services, by package, in the order of the document.
SERVICES: dict[str, str] = {
    "gateway": "yiwang_gateway",
    "management": "yiwang_management",
    "business": "yiwang_business",
    "datasharing": "yiwang_datasharing",
}

#: The unit and region every staff token of the matrix carries (元江县住房和城乡建设局, 元江县).
ORG_CODE = "11530428015176456L"
REGION = "530428"
AGENT_FOR = "91530428MA6K000015"


@dataclass(frozen=True)
class Role:
    """One column: who calls (a token, or none)."""

    key: str
    label: str
    principal: Principal | None


def _staff(role: str) -> Principal:
    return Principal(
        sub=f"matrix-{role}",
        name=role,
        kind="staff",
        roles=frozenset({role}),
        org_code=ORG_CODE,
        region=REGION,
    )


ROLES: tuple[Role, ...] = (
    Role("anonymous", "未登录 anonymous", None),
    Role(
        "applicant",
        "申请人 applicant",
        Principal(
            sub="matrix-applicant", name="张三", kind="natural_person", roles=frozenset({ROLE_APPLICANT})
        ),
    ),
    Role(
        "agent",
        "经办人 agent",
        Principal(
            sub="matrix-agent",
            name="李四",
            kind="legal_person",
            roles=frozenset({ROLE_APPLICANT}),
            acting_for=AGENT_FOR,
        ),
    ),
    Role(ROLE_RECEIVER, "收件人 receiver", _staff(ROLE_RECEIVER)),
    Role(ROLE_ACCEPTOR, "受理人 acceptor", _staff(ROLE_ACCEPTOR)),
    Role(ROLE_REVIEWER, "审查人 reviewer", _staff(ROLE_REVIEWER)),
    Role(ROLE_APPROVER, "决定人 approver", _staff(ROLE_APPROVER)),
    Role(ROLE_DELIVERER, "送件人 deliverer", _staff(ROLE_DELIVERER)),
    Role(ROLE_SUPERVISOR, "电子监察 supervisor", _staff(ROLE_SUPERVISOR)),
    Role(ROLE_ADMIN, "中心管理员 admin", _staff(ROLE_ADMIN)),
)

# Cell texts. The data scope of an allowed cell: whose records the caller gets (others look absent, 404).
PUBLIC = "✓ 公开"
ALLOW = "✓"
NO_TOKEN = "✗ 401"
NO_ROLE = "✗ 403"
OWN = "✓ 本人"
OWN_AGENT = "✓ 本人·所代理单位"
UNIT_REGION = "✓ 本单位·本区划"
IN_REGION = "✓ 本区划"
WITH_REASON = "✓ 本区划·须事由"
NOTHING = "✓ 无数据"
#: Plug-in callbacks (ADR 0112) take an external system's own token: no user token passes.
SYSTEM_TOKEN = "✗ 401 外部系统令牌"


@dataclass(frozen=True)
class Endpoint:
    """One row: an operation of one service and what each role gets."""

    service: str
    method: str
    path: str
    summary: str
    authenticated: bool
    roles: frozenset[str] | None
    scope: str | None
    cells: tuple[str, ...]


def offline_app(package: str) -> Any:
    """A service's app that is never started (building it opens no connection)."""
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    settings = config.Settings(
        database={"url": "postgresql://matrix@127.0.0.1:1/none"}, auth=ephemeral_auth()
    )
    return main.create_app(settings)


def _calls(dependant: Any) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _cell(role: Role, *, authenticated: bool, roles: frozenset[str] | None, scope: str | None) -> str:
    if scope == "external-system":
        return SYSTEM_TOKEN
    if not authenticated:
        return PUBLIC
    principal = role.principal
    if principal is None:
        return NO_TOKEN
    if roles is not None and not principal.roles & roles:
        return NO_ROLE
    if scope is None:
        return ALLOW
    staff = principal.kind == "staff"
    if scope == "personal":
        if not staff:
            return OWN_AGENT if principal.acting_for else OWN
        if principal.roles & {ROLE_SUPERVISOR}:
            return IN_REGION
        if principal.roles & HANDLING_ROLES:
            return UNIT_REGION
        return WITH_REASON if principal.roles & {ROLE_ADMIN} else NOTHING
    if scope == "unit-region":
        if not staff:
            return OWN
        return UNIT_REGION if principal.roles & HANDLING_ROLES else NOTHING
    if scope == "region":
        return IN_REGION
    if scope == "joint":
        # 联办件: the applicant; supervisors and admins in the region; the window's or a part's unit.
        if not staff:
            return OWN
        if principal.roles & {ROLE_SUPERVISOR, ROLE_ADMIN}:
            return IN_REGION
        return UNIT_REGION if principal.org_code else NOTHING
    if scope == "applicant":
        # The applicant's own action on a joint case (its part's 补正, ADR 0127): staff never.
        if not staff:
            return OWN_AGENT if principal.acting_for else OWN
        return NOTHING
    raise ValueError(f"unknown x-access-scope {scope!r}")


def endpoints(service: str, app: Any) -> list[Endpoint]:
    """Every operation of an app's OpenAPI surface, with its cells."""
    rows = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if not isinstance(original, APIRoute) or not route.include_in_schema:
            continue
        calls = list(_calls(route.dependant))
        required = [getattr(call, REQUIRES_ROLE) for call in calls if getattr(call, REQUIRES_ROLE, None)]
        roles = frozenset(required[0]) if required else None
        authenticated = current_principal in calls
        scope = (original.openapi_extra or {}).get("x-access-scope")
        if access_reason in calls:
            scope = "personal"
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            cells = tuple(_cell(r, authenticated=authenticated, roles=roles, scope=scope) for r in ROLES)
            rows.append(
                Endpoint(
                    service,
                    method,
                    route.path_format,
                    original.summary or "",
                    authenticated,
                    roles,
                    scope,
                    cells,
                )
            )
    return sorted(rows, key=lambda e: (e.path, e.method))


def all_endpoints() -> list[Endpoint]:
    """The matrix of the four services."""
    return [row for service, package in SERVICES.items() for row in endpoints(service, offline_app(package))]


def render(rows: list[Endpoint]) -> str:
    """The Markdown document (deterministic)."""
    lines = [
        "# 权限矩阵 Authorisation matrix",
        "",
        "Generated by `uv run python -m scripts.authz_matrix` from the routes of the four apps; "
        "`tests/test_authorization_matrix.py` sends a real token of every role to every endpoint of the "
        "real apps, checks every cell, and fails when this file is stale. The rules: "
        "[ADR 0105](adr/0105-staff-organisation-and-access.md), [ADR 0013](adr/0013-access-rules-and-login-throttling.md).",
        "",
        f"Staff tokens carry a unit (`org_code` {ORG_CODE}) and a region (`region` {REGION}); the agent acts "
        f"for {AGENT_FOR}.",
        "",
        "- **✗ 401**: no token. **✗ 403**: the token lacks a role the endpoint requires (deny by default).",
        "- **✓**: past the token and role checks; the endpoint's own rules decide the rest (its 404s, 409s, "
        "422s, and domain 403s such as `item_not_owner`: only the owning unit edits its catalogue entries, only "
        "the centre approves them).",
        "- Data scope of an allowed read — records outside it answer exactly like absent ones (404):",
        "  - **本人** own cases; **本人·所代理单位** also those of the legal person the agent (经办人) acts for;",
        "  - **本单位·本区划** cases of items the caller's unit implements, registered in the caller's region "
        "(another unit or another region: 404);",
        "  - **本区划** every unit of the caller's region and the regions below it (530400 covers 530428);",
        "  - **本区划·须事由** as 本区划, only with a reason (`X-Access-Reason` or `reason`), recorded in the "
        "audit log; without one 403 `reason_required`;",
        "  - **无数据** allowed, but the role reaches no records (an empty list, 404 for one).",
        "- Unit × region, for a staff token of the cell's role: same unit & region → the cell; other unit, same "
        "region → 404 unless the cell is 本区划; a region outside the caller's → 404.",
        "- Console pages (`/console/…`, cookie `yiwang_staff`, ADR 0021) are outside this OpenAPI matrix; they "
        "call the same services with the same rules.",
        "",
    ]
    header = "| 方法 | 路径 | 说明 | " + " | ".join(r.label for r in ROLES) + " |"
    rule = "|" + "---|" * (3 + len(ROLES))
    for service in SERVICES:
        lines += [f"## {service}", "", header, rule]
        for e in (r for r in rows if r.service == service):
            summary = e.summary.replace("|", "\\|")
            lines.append(f"| {e.method} | `{e.path}` | {summary} | " + " | ".join(e.cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write the document, or with ``--check`` tell whether it is stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when the document is stale")
    args = parser.parse_args(argv)
    text = render(all_endpoints())
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(
                f"{OUT.relative_to(ROOT)} is stale: run `uv run python -m scripts.authz_matrix`",
                file=sys.stderr,
            )
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
