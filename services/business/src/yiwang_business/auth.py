"""Who may call what: staff for reading and handling, administrators for workflow definitions."""

from __future__ import annotations

from typing import Annotated

from yiwang_common.auth import ROLE_ADMIN, ROLE_SUPERVISOR, STAFF_ROLES, Principal, require_role

StaffPrincipal = Annotated[Principal, require_role(*sorted(STAFF_ROLES))]
AdminPrincipal = Annotated[Principal, require_role(ROLE_ADMIN)]
#: 督办 Supervision and administrators: the step timers.
SupervisorPrincipal = Annotated[Principal, require_role(ROLE_SUPERVISOR, ROLE_ADMIN)]
