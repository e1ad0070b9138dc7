"""查询留痕 Every registry lookup is recorded: who asked, for whom, why, which (masked) key, and the answer.

The records go through ``record_lookup`` alone, so that they can be pointed at the platform's
shared audit log (yiwang_datasharing/audit, issue 8) by changing this one function; until then
they are rows of the append-only ``registry_lookup`` table in the same unit of work as the
lookup, so that a lookup without its record cannot happen.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.db import utcnow
from yiwang_common.masking import mask_id_number
from yiwang_datasharing.registry.repository import LookupRepository


@dataclass(frozen=True)
class LookupCaller:
    """Who asks: the verified principal, the portal user a service asks for, and the stated reason."""

    principal: Principal
    on_behalf_of: str | None = None
    reason: str | None = None


async def record_lookup(
    session: AsyncSession, *, caller: LookupCaller, registry: str, purpose: str, key: str, matched: bool
) -> None:
    """Append one lookup record (who, what, when, why) in the lookup's unit of work.

    Args:
        session: the lookup's unit of work.
        caller: who asked, for whom and why.
        registry: ``population`` or ``legal_person``.
        purpose: ``verify`` or ``prefill``.
        key: the 公民身份号码 or 统一社会信用代码 looked up; a person's number is stored masked.
        matched: whether the registry had an exact match.
    """
    await LookupRepository.from_session(session).append(
        {
            "at": utcnow(),
            "registry_kind": registry,
            "purpose": purpose,
            "caller_sub": caller.principal.sub[:64],
            "caller_kind": caller.principal.kind,
            "on_behalf_of": (caller.on_behalf_of or None) and caller.on_behalf_of[:64],
            "reason": caller.reason,
            # A credit code is public (GB 32100); a person's number is not.
            "key_masked": key if registry == "legal_person" else (mask_id_number(key) or ""),
            "matched": matched,
        }
    )
