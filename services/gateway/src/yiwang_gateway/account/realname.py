"""实名等级 L3: a 受理人 at a window raises an account after checking the person (or company) in
person or through a trusted channel; the reason is recorded and audited (ADR 0114).

L1 is self-declared, L2 verified against the base registries at sign-up (ADR 0104); L3 needs a
member of staff who saw the original document. The level rides in the next token (``rnl``).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.audit import record_audit
from yiwang_common.auth import Principal
from yiwang_common.db import utcnow
from yiwang_common.masking import mask_person_name
from yiwang_gateway.account.errors import AccountNotFound, RealnameAlreadyVerified
from yiwang_gateway.account.models import RealnameVerification
from yiwang_gateway.account.repository import RealnameVerificationRepository
from yiwang_gateway.account.schemas import RealnameVerificationCreate, RealnameVerified
from yiwang_gateway.db import messaging

#: The audit action of a raise (an extension of the 0105 actions).
REALNAME_VERIFIED = "realname_verified"
L3 = "L3"


async def verify_l3(
    session: AsyncSession,
    staff: Principal,
    body: RealnameVerificationCreate,
    *,
    source: str,
    region_code: str,
) -> RealnameVerified:
    """Raise the account of a 证件 to L3, record who did it and why, and audit it, in one unit of work.

    Raises:
        AccountNotFound: no applicant account has that document.
        RealnameAlreadyVerified: it is at L3 already.
    """
    repository = RealnameVerificationRepository.from_session(session)
    account = await repository.account_by_identity_for_update(body.id_type, body.id_number.upper())
    if account is None:
        raise AccountNotFound("没有以该证件注册的账户 (no account with this document)")
    if account.realname_level == L3:
        raise RealnameAlreadyVerified("该账户已是 L3 实名等级 (already L3)")
    before = account.realname_level
    account.realname_level = L3
    record = await repository.create(
        RealnameVerification(
            id=uuid.uuid4(),
            account_id=account.id,
            level_before=before,
            level_after=L3,
            method=body.method,
            reason=body.reason,
            staff_id=staff.sub,
            staff_name=staff.name[:100],
            staff_org_code=staff.org_code,
            verified_at=utcnow(),
        ),
        flush=True,
    )
    await record_audit(
        session,
        messaging.outbox,
        source=source,
        action=REALNAME_VERIFIED,
        actor=staff,
        region_code=region_code,
        target_type="account",
        target_id=str(account.id),
        reason=body.reason,
        detail={"method": body.method, "level_before": before, "level_after": L3},
    )
    return RealnameVerified(
        verification_id=record.id,
        account_id=str(account.id),
        name_masked=mask_person_name(account.name) if account.kind == "natural_person" else account.name,
        level_before=before,
        realname_level=L3,
        method=body.method,
    )
