"""Business rules of the e-licence library: register and sign once, verify, suspend and revoke.

Docs: docs/adr/0108-signed-e-licences.md.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from yiwang_common.access import region_of
from yiwang_common.auth import ROLE_ADMIN, ROLE_APPROVER, Principal
from yiwang_common.contracts.common import ELicence, Organisation
from yiwang_common.contracts.datasharing import LicenceRegistered, LicenceStatus, LicenceStatusChanged
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue
from yiwang_common.http.pagination import ListResource, PageParams
from yiwang_datasharing.access import is_staff, scope_of
from yiwang_datasharing.audit import service as audit_service
from yiwang_datasharing.config import Settings
from yiwang_datasharing.db import messaging
from yiwang_datasharing.licence.errors import (
    HolderListingDenied,
    LicenceCatalogueForbidden,
    LicenceKeyForbidden,
    LicenceNotFound,
    LicenceRevoked,
    LicenceStatusForbidden,
    LicenceTypeNotFound,
    LicenceVerificationNotFound,
    SigningKeyNotFound,
)
from yiwang_datasharing.licence.events import licence_registered_event, licence_status_changed_event
from yiwang_datasharing.licence.models import ELicenceRecord, LicenceType, SigningKey
from yiwang_datasharing.licence.repository import (
    LicenceRepository,
    LicenceTypeRepository,
    SigningKeyRepository,
)
from yiwang_datasharing.licence.schemas import (
    RESULT_TEXT,
    HeldLicenceSchema,
    HolderLicences as HolderLicencesSchema,
    LicenceSchema,
    LicenceTypeBody,
    LicenceTypeSchema,
    LicenceVerificationSchema,
    SignedDocumentSchema,
    SigningKeySchema,
    StatusChange,
    VerificationOutcome,
    data_items_from,
)
from yiwang_datasharing.licence.signing import (
    Algorithm,
    KeyPair,
    KeySealer,
    SignedLicence,
    check_signature,
    development_kek,
    generate_key,
    load_key,
    sign_licence,
)

#: 持证主体代码类型 of a unit (统一社会信用代码); a unit's registered name is public information.
LEGAL_PERSON_CODE_TYPE = "001"
_PLAIN_FIELDS = tuple(name for name in ELicence.model_fields if name != "issuer")
#: Licence validity is a matter of the local calendar day (Asia/Shanghai, no DST).
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
#: Most licences one holder's list returns (a person rarely holds more).
MAX_HELD = 200


def local_today(now: datetime) -> date:
    return now.astimezone(CHINA_TZ).date()


def to_schema(row: ELicenceRecord, *, today: date | None = None) -> LicenceSchema:
    """Rebuild the standard licence shape from its row (status expired once past valid_until)."""
    plain = {name: getattr(row, name) for name in _PLAIN_FIELDS}
    issuer = Organisation(name=row.issuer_name, code=row.issuer_code)
    return LicenceSchema(
        **plain,
        issuer=issuer,
        status=effective_status(row.status, row.valid_until, today or local_today(utcnow())),
        registered_at=row.registered_at,
        signature_alg=row.signature_alg,
        signature_kid=row.signature_kid,
    )


def effective_status(stored: str, valid_until: date | None, today: date) -> str:
    """Revoked and suspended come first; a licence past its last day is expired (失效)."""
    if stored in ("revoked", "suspended"):
        return stored
    if valid_until is not None and valid_until < today:
        return "expired"
    return stored


def mask_holder_name(name: str, code_type: str) -> str:
    """A person's name shows only its first character (张**); a unit's name is public as registered."""
    if code_type == LEGAL_PERSON_CODE_TYPE:
        return name
    return name[:1] + "*" * max(len(name) - 1, 1)


def signed_of(row: ELicenceRecord) -> SignedLicence | None:
    if row.signed_payload is None or row.signature_alg is None or row.signature_kid is None:
        return None
    return SignedLicence(
        payload=row.signed_payload,
        algorithm=row.signature_alg,
        kid=row.signature_kid,
        value=row.signature_value or "",
    )


@dataclass
class LicenceSigner:
    """The issuing units' keys: one in use per unit and algorithm, made on the unit's first licence.

    Decrypted keys are kept in memory by key id (they never change). Which key is in use is
    remembered per unit as a hint only: the licence insert checks in the same statement that the
    key is still in use (:meth:`LicenceRepository.add_if_new`), so another replica's rotation is
    seen on the next licence, which is then signed again with the key read afresh (ADR 0125).
    """

    algorithm: Algorithm
    sealer: KeySealer
    _keys: dict[str, KeyPair] = field(default_factory=dict)
    _public: dict[str, tuple[str, str]] = field(default_factory=dict)
    _active: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> LicenceSigner:
        if settings.licence_key_secret is not None:
            kek = base64.b64decode(settings.licence_key_secret.get_secret_value())
        elif settings.env == "production":
            raise RuntimeError(
                "生产环境未配置证照签名密钥加密密钥 DATASHARING_LICENCE_KEY_SECRET "
                "(production refuses to sign licences without a configured key encryption key)"
            )
        else:
            kek = development_kek(settings.var_dir)
        return cls(algorithm=settings.licence_signature_algorithm, sealer=KeySealer(kek))

    async def _create(self, session: AsyncSession, org_code: str, algorithm: Algorithm) -> None:
        key = generate_key(algorithm)
        kid = f"{org_code}-{algorithm}-{secrets.token_hex(4)}"
        await SigningKeyRepository.from_session(session).add_if_no_active(
            {
                "kid": kid,
                "org_code": org_code,
                "algorithm": algorithm,
                "public_key": key.public_text(),
                "sealed_private_key": self.sealer.seal(kid, key.private_bytes()),
                "created_at": utcnow(),
                "retired_at": None,
            }
        )

    async def active_key(
        self, session: AsyncSession, org_code: str, *, fresh: bool = False
    ) -> tuple[str, KeyPair]:
        """The unit's key in use, made now if it has none (a concurrent maker's key wins the race).

        Args:
            session: the unit of work.
            org_code: the issuing unit.
            fresh: read it from the database even if one is remembered.
        """
        remembered = None if fresh else self._active.get(org_code)
        if remembered is not None:
            return remembered, self._keys[remembered]
        repository = SigningKeyRepository.from_session(session)
        row = await repository.active(org_code, self.algorithm)
        if row is None:
            await self._create(session, org_code, self.algorithm)
            row = await repository.active(org_code, self.algorithm)
            assert row is not None
        key = self._unsealed(row)
        self._active[org_code] = row.kid
        return row.kid, key

    def _unsealed(self, row: SigningKey) -> KeyPair:
        key = self._keys.get(row.kid)
        if key is None:
            algorithm: Algorithm = "sm2" if row.algorithm == "sm2" else "ed25519"
            key = load_key(algorithm, self.sealer.open(row.kid, row.sealed_private_key))
            self._keys[row.kid] = key
        return key

    async def public_key(self, session: AsyncSession, kid: str) -> str | None:
        cached = self._public.get(kid)
        if cached is None:
            found = await SigningKeyRepository.from_session(session).public_key(kid)
            if found is None:
                return None
            self._public[kid] = cached = found
        return cached[1]

    async def rotate(self, session: AsyncSession, org_code: str, now: datetime) -> str:
        """Retire the unit's key in use and make the next one; return its kid."""
        self._active.pop(org_code, None)
        await SigningKeyRepository.from_session(session).retire_active(org_code, self.algorithm, now)
        await self._create(session, org_code, self.algorithm)
        kid, _ = await self.active_key(session, org_code, fresh=True)
        return kid


#: ``session.info`` key: (memo, identifier, type code) of the licences this transaction inserted.
_INSERTED = "datasharing.licences_inserted"


@dataclass
class RegistrationMemo:
    """What this process knows to be in the library already: licences and catalogue types.

    Filled only after the transaction that wrote them commits (licences and types are never
    deleted), so a later event for the same licence (the decision, then the completion) skips
    the signing and the insert that would find it there. Another replica's memo does not know;
    it falls back to the idempotent insert, which gives the same answer.
    """

    capacity: int = 4096
    registered: OrderedDict[str, None] = field(default_factory=OrderedDict)
    types: set[str] = field(default_factory=set)

    def note(self, identifier: str, type_code: str) -> None:
        self.registered[identifier] = None
        if len(self.registered) > self.capacity:
            self.registered.popitem(last=False)
        if len(self.types) >= self.capacity:
            self.types.clear()
        self.types.add(type_code)

    def after_commit(self, session: AsyncSession, licence: ELicence) -> None:
        """Note ``licence`` (and its type) once ``session``'s transaction has committed."""
        session.sync_session.info.setdefault(_INSERTED, []).append(
            (self, licence.identifier, licence.type_code)
        )


@sa_event.listens_for(Session, "after_commit")
def _note_committed(session: Session) -> None:
    for memo, identifier, type_code in session.info.pop(_INSERTED, ()):
        memo.note(identifier, type_code)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_INSERTED, None)


def sign(licence: ELicence, kid: str, key: KeyPair, signed_at: datetime) -> SignedLicence:
    """The licence's signed document: the contract's JSON form, canonicalised and signed."""
    stamp = signed_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return sign_licence(licence.model_dump(mode="json"), key, kid=kid, signed_at=stamp)


class LicenceService:
    """Registration, reads, verification and status of e-licences."""

    async def register(
        self,
        session: AsyncSession,
        signer: LicenceSigner,
        *,
        licence: ELicence,
        registered_at: datetime,
        source: str,
        memo: RegistrationMemo | None = None,
    ) -> SignedLicence | None:
        """Register and sign a licence, announcing it; return its signed document the first time, None after.

        Args:
            memo: what this process knows to be registered already (skips the work for those).
        """
        if memo is not None and licence.identifier in memo.registered:
            return None
        repository = LicenceRepository.from_session(session)
        kid, key = await signer.active_key(session, licence.issuer.code)
        token = secrets.token_urlsafe(24)
        while True:
            signed = sign(licence, kid, key, registered_at)
            if await repository.add_if_new(
                licence=licence, registered_at=registered_at, token=token, signed=signed
            ):
                break
            # Registered before, or the key was retired since (a rotation on another replica):
            # the key in use now tells which.
            current, key = await signer.active_key(session, licence.issuer.code, fresh=True)
            if current == kid:
                return None
            kid = current
        if memo is None or licence.type_code not in memo.types:
            await self._catalogue(session, licence, registered_at)
        if memo is not None:
            memo.after_commit(session, licence)
        registered = LicenceRegistered(
            licence=licence,
            registered_at=registered_at,
            signature_alg=signed.algorithm,
            signature_kid=signed.kid,
        )
        await enqueue(session, messaging.outbox, licence_registered_event(registered, source=source))
        return signed

    async def _catalogue(self, session: AsyncSession, licence: ELicence, now: datetime) -> None:
        # A type the catalogue does not know yet is entered from what the business system sent;
        # an administrator completes it (PUT /licence-types/{code}).
        days = (licence.valid_until - licence.valid_from).days if licence.valid_until else None
        await LicenceTypeRepository.from_session(session).add_if_new(
            {
                "code": licence.type_code,
                "name": licence.type_name,
                "category": "证照",
                "defining_org_name": "",
                "defining_org_code": licence.type_code[:18],
                "defining_level": "其他",
                "issuing_level": "其他",
                "holder_category": "法人" if licence.holder_code_type == LEGAL_PERSON_CODE_TYPE else "自然人",
                "validity_days": days if days and days > 0 else None,
                "data_items": data_items_from(licence.data),
                "updated_at": now,
            }
        )

    async def get_visible(
        self, session: AsyncSession, *, identifier: str, principal: Principal, reason: str | None = None
    ) -> LicenceSchema:
        """The licence, for its holder (the case's applicant) or staff of the item's unit or region."""
        row = await LicenceRepository.from_session(session).get_visible(
            identifier, scope_of(principal, reason=reason)
        )
        if row is None:
            raise LicenceNotFound(f"电子证照 {identifier} 不存在")
        if is_staff(principal):
            await audit_service.record_read(
                session,
                principal=principal,
                target_type="licence",
                target_id=identifier,
                region_code=region_of(principal) or "000000",
                reason=reason,
            )
        return to_schema(row)

    async def of_holder(
        self, session: AsyncSession, *, holder_code: str, principal: Principal, service_clients: list[str]
    ) -> HolderLicencesSchema:
        """我的证照: every licence of one holder, for the portal (which checked that the holder asks)."""
        if not (principal.kind == "service" and principal.sub in service_clients):
            raise HolderListingDenied("仅门户服务可按持证主体查询证照")
        rows = await LicenceRepository.from_session(session).of_holder(holder_code, limit=200)
        return HolderLicencesSchema(holder_code=holder_code, items=[to_schema(r) for r in rows])

    async def document(
        self, session: AsyncSession, *, identifier: str, principal: Principal, reason: str | None = None
    ) -> SignedDocumentSchema:
        """证照签名件 of a licence the caller may read, for offline verification; staff reads are audited."""
        row = await LicenceRepository.from_session(session).get_visible(
            identifier, scope_of(principal, reason=reason)
        )
        signed = None if row is None else signed_of(row)
        if signed is None:
            raise LicenceNotFound(f"电子证照 {identifier} 不存在或未签名")
        if is_staff(principal):
            await audit_service.record_read(
                session,
                principal=principal,
                target_type="licence",
                target_id=identifier,
                region_code=region_of(principal) or "000000",
                reason=reason,
            )
        return SignedDocumentSchema.model_validate(signed.as_json())

    async def list_held(self, session: AsyncSession, *, principal: Principal) -> list[HeldLicenceSchema]:
        """我的证照: the licences of the caller's own cases (staff hold none here)."""
        if is_staff(principal) or principal.kind == "service":
            return []
        today = local_today(utcnow())
        rows = await LicenceRepository.from_session(session).list_held(principal.sub, MAX_HELD)
        held = []
        for row in rows:
            payload = row.signed_payload.encode() if row.signed_payload is not None else None
            held.append(
                HeldLicenceSchema(
                    **to_schema(row, today=today).model_dump(),
                    verification_token=row.verification_token,
                    document_sha256=hashlib.sha256(payload).hexdigest() if payload is not None else None,
                    document_size=len(payload) if payload is not None else None,
                )
            )
        return held

    async def verify_token(
        self, session: AsyncSession, signer: LicenceSigner, *, token: str
    ) -> LicenceVerificationSchema:
        """核验 by the QR code's token: the stored signed document, checked now, with today's status."""
        row = await LicenceRepository.from_session(session).get_by_token(token)
        if row is None:
            raise LicenceVerificationNotFound("该核验码不对应任何电子证照")
        signed = signed_of(row)
        if signed is None:
            return verdict(None, row)
        checked = check_signature(signed, await signer.public_key(session, signed.kid))
        return verdict(checked.licence, row)

    async def verify_document(
        self, session: AsyncSession, signer: LicenceSigner, *, document: SignedDocumentSchema
    ) -> LicenceVerificationSchema:
        """核验 of a presented signed document: its signature, then its licence's status in the library."""
        signed = SignedLicence(
            payload=document.payload,
            algorithm=document.signature.alg,
            kid=document.signature.kid,
            value=document.signature.value,
        )
        checked = check_signature(signed, await signer.public_key(session, signed.kid))
        row = None
        if checked.licence is not None and isinstance(identifier := checked.licence.get("identifier"), str):
            row = await LicenceRepository.from_session(session).get(identifier)
        return verdict(checked.licence, row)

    async def change_status(
        self,
        session: AsyncSession,
        *,
        identifier: str,
        change: StatusChange,
        principal: Principal,
        source: str,
    ) -> LicenceSchema:
        """Suspend, reinstate or revoke; only the issuing unit's approvers or administrators may."""
        repository = LicenceRepository.from_session(session)
        row = await repository.lock(identifier)
        if row is None or not is_staff(principal) or principal.org_code != row.issuer_code:
            # "Not yours" reads like "not there" for anyone outside the issuing unit (ADR 0013).
            raise LicenceNotFound(f"电子证照 {identifier} 不存在")
        if not (principal.has_role(ROLE_APPROVER) or principal.has_role(ROLE_ADMIN)):
            raise LicenceStatusForbidden("仅签发单位的审批人员或管理员可以变更证照状态")
        previous: LicenceStatus = row.status  # type: ignore[assignment]
        if previous == change.status:
            return to_schema(row)
        if previous == "revoked":
            raise LicenceRevoked(f"电子证照 {identifier} 已撤销")
        now = utcnow()
        await repository.update(
            row,
            update_dict={"status": change.status, "status_reason": change.reason, "status_changed_at": now},
        )
        event = LicenceStatusChanged(
            identifier=row.identifier,
            case_no=row.case_no,
            status=change.status,
            previous_status=previous,
            reason=change.reason,
            changed_by=principal.name,
            changed_at=now,
        )
        await enqueue(session, messaging.outbox, licence_status_changed_event(event, source=source))
        return to_schema(row)

    async def rotate_key(
        self, session: AsyncSession, signer: LicenceSigner, *, org_code: str, principal: Principal
    ) -> SigningKeySchema:
        """密钥轮换: the unit's administrator retires its key in use; older licences keep verifying."""
        if not (is_staff(principal) and principal.has_role(ROLE_ADMIN) and principal.org_code == org_code):
            raise LicenceKeyForbidden("仅本单位管理员可以轮换签名密钥")
        kid = await signer.rotate(session, org_code, utcnow())
        return await self.signing_key(session, kid=kid)

    async def signing_key(self, session: AsyncSession, *, kid: str) -> SigningKeySchema:
        row = await SigningKeyRepository.from_session(session).get_by_id(kid)
        if row is None:
            raise SigningKeyNotFound(f"签名密钥 {kid} 不存在")
        return SigningKeySchema.model_validate(row, from_attributes=True)

    async def list_types(self, session: AsyncSession, *, page: PageParams) -> ListResource[LicenceTypeSchema]:
        rows, total = await LicenceTypeRepository.from_session(session).list_page(page.offset, page.limit)
        return page.wrap([type_schema(r) for r in rows], total)

    async def get_type(self, session: AsyncSession, *, code: str) -> LicenceTypeSchema:
        row = await LicenceTypeRepository.from_session(session).get_by_id(code)
        if row is None:
            raise LicenceTypeNotFound(f"证照类型 {code} 不在证照目录中")
        return type_schema(row)

    async def put_type(
        self, session: AsyncSession, *, code: str, body: LicenceTypeBody, principal: Principal
    ) -> LicenceTypeSchema:
        """Enter or replace a catalogue entry (证照目录维护, administrators only)."""
        if not (is_staff(principal) and principal.has_role(ROLE_ADMIN)):
            raise LicenceCatalogueForbidden("仅管理员可以维护证照目录")
        repository = LicenceTypeRepository.from_session(session)
        values: dict[str, Any] = {
            "name": body.name,
            "category": body.category,
            "defining_org_name": body.defining_org.name,
            "defining_org_code": body.defining_org.code,
            "defining_level": body.defining_level,
            "issuing_level": body.issuing_level,
            "holder_category": body.holder_category,
            "validity_days": body.validity_days,
            "data_items": [d.model_dump() for d in body.data_items],
            "updated_at": utcnow(),
        }
        row = await repository.get_by_id(code)
        if row is None:
            row = await repository.create(LicenceType(code=code, **values), flush=True)
        else:
            await repository.update(row, update_dict=values, flush=True)
        return type_schema(row)


def verdict(licence: dict[str, Any] | None, row: ELicenceRecord | None) -> LicenceVerificationSchema:
    """The verification answer: shown from the signed licence (never the row's columns), status from the row."""
    now = utcnow()
    invalid = LicenceVerificationSchema(result="invalid", result_text=RESULT_TEXT["invalid"], checked_at=now)
    # The signed identifier must be this row's: a document moved onto another row fails.
    if licence is None or row is None or licence.get("identifier") != row.identifier:
        return invalid
    try:
        value = ELicence.model_validate(licence)
    except ValueError:
        return invalid
    outcome = cast(VerificationOutcome, effective_status(row.status, value.valid_until, local_today(now)))
    return LicenceVerificationSchema(
        result=outcome,
        result_text=RESULT_TEXT[outcome],
        checked_at=now,
        type_name=value.type_name,
        holder_name=mask_holder_name(value.holder_name, value.holder_code_type),
        issuer_name=value.issuer.name,
        issued_on=value.issued_on,
        valid_from=value.valid_from,
        valid_until=value.valid_until,
    )


def type_schema(row: LicenceType) -> LicenceTypeSchema:
    return LicenceTypeSchema(
        code=row.code,
        name=row.name,
        category=row.category,
        defining_org=Organisation(name=row.defining_org_name or "（待补充）", code=row.defining_org_code),
        defining_level=row.defining_level,
        issuing_level=row.issuing_level,
        holder_category=row.holder_category,
        validity_days=row.validity_days,
        data_items=row.data_items,
        updated_at=row.updated_at,
    )


licence_service = LicenceService()
