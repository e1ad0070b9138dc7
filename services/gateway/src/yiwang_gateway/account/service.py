"""Business rules of accounts: real-name checks, authentication, principals."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_APPLICANT, STAFF_ROLES, Principal
from yiwang_common.checkdigits import resident_id_valid, uscc_valid
from yiwang_common.masking import mask_identifier, mask_mobile, mask_person_name
from yiwang_gateway.account.errors import AccountNotFound, InvalidIdNumber
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.passwords import hash_password
from yiwang_gateway.account.repository import AccountRepository
from yiwang_gateway.account.schemas import AccountCreate, Profile

#: 证件类型代码 per applicant kind: 111 居民身份证, 001 统一社会信用代码.
ID_TYPE_BY_KIND = {"natural_person": "111", "legal_person": "001"}


def check_identity(account_create: AccountCreate) -> None:
    """Refuse id numbers whose check digit is wrong (GB 11643 / GB 32100)."""
    kind, number = account_create.kind, account_create.id_number
    if kind == "natural_person" and not (number and resident_id_valid(number)):
        raise InvalidIdNumber("居民身份证号码校验位错误 (invalid resident id number)")
    if kind == "legal_person" and not (number and uscc_valid(number)):
        raise InvalidIdNumber("统一社会信用代码校验位错误 (invalid USCC)")
    if kind == "staff" and account_create.org_code and not uscc_valid(account_create.org_code):
        raise InvalidIdNumber("单位统一社会信用代码校验位错误 (invalid org code)")


class AccountService:
    """账户 use cases."""

    async def create(self, session: AsyncSession, *, account_create: AccountCreate) -> Account:
        check_identity(account_create)
        kind = account_create.kind
        roles = sorted(set(account_create.roles) & STAFF_ROLES) if kind == "staff" else [ROLE_APPLICANT]
        account = Account(
            username=account_create.username,
            password_hash=await hash_password(account_create.password),
            kind=kind,
            name=account_create.name,
            id_type=account_create.id_type or ID_TYPE_BY_KIND.get(kind),
            id_number=account_create.id_number,
            phone=account_create.phone,
            org_code=account_create.org_code,
            roles=roles,
            realname_level=account_create.realname_level if kind != "staff" else None,
            legal_rep_name=account_create.legal_rep_name,
            legal_rep_id_number=account_create.legal_rep_id_number,
        )
        return await AccountRepository.from_session(session).create(account, flush=True)

    async def get_active(self, session: AsyncSession, *, account_id: str) -> Account:
        account = await AccountRepository.from_session(session).get(account_id)
        if account is None or not account.active:
            raise AccountNotFound()
        return account

    async def active_applicant(self, session: AsyncSession, *, account_id: str) -> Any:
        """Like ``get_active``, but only the applicant's profile columns (a row)."""
        account = await AccountRepository.from_session(session).applicant_profile(account_id)
        if account is None or not account.active:
            raise AccountNotFound()
        return account

    def principal(self, account: Account) -> Principal:
        return Principal(
            sub=str(account.id),
            name=account.name,
            kind=account.kind,
            roles=frozenset(account.roles),
            org_code=account.org_code if account.kind == "staff" else None,
            realname_level=account.realname_level if account.kind != "staff" else None,
        )

    def profile(self, account: Account, principal: Principal | None = None) -> Profile:
        return Profile(
            id=str(account.id),
            username=account.username,
            kind=account.kind,
            name=account.name,
            id_type=account.id_type,
            id_number_masked=mask_identifier(account.id_number, id_type=account.id_type),
            phone=mask_mobile(account.phone),
            org_code=account.org_code,
            roles=sorted(account.roles),
            realname_level=account.realname_level,
            legal_rep_name=mask_person_name(account.legal_rep_name),
            acting_for=principal.acting_for if principal else None,
            agent_scopes=sorted(principal.agent_scopes) if principal else [],
        )


account_service = AccountService()
