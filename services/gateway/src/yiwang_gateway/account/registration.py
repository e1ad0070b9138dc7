"""注册 Sign-up of natural and legal persons, verified against the base registries (基础库).

A person's name and 公民身份号码, or a unit's code, name and 法定代表人, must match data-sharing's
人口库 / 法人库 exactly; the account then starts at 实名等级 L2. Check digits are checked here
first, so that a mistyped number is told apart from a registry mismatch and never reaches the
registry. The registry's answer never says which field differed.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.checkdigits import resident_id_valid, uscc_valid
from yiwang_common.masking import mask_person_name
from yiwang_gateway.account.errors import (
    IdentityRegistered,
    InvalidCreditCode,
    InvalidIdNumber,
    LegalPersonNotActive,
    RegistryMismatch,
    UsernameTaken,
)
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.registry import RegistryClient
from yiwang_gateway.account.repository import AccountRepository
from yiwang_gateway.account.schemas import (
    AccountCreate,
    LegalPersonPrefill,
    LegalPersonSignUp,
    NaturalPersonSignUp,
    Registered,
)
from yiwang_gateway.account.service import account_service


def checked_id_number(value: str, *, field: str = "公民身份号码") -> str:
    """The number in upper case, or a 422 saying what is wrong with it (GB 11643)."""
    number = value.strip().upper()
    if len(number) != 18:
        raise InvalidIdNumber(f"{field}应为 18 位，您输入了 {len(number)} 位", field=field)
    if not resident_id_valid(number):
        raise InvalidIdNumber(f"{field}校验码错误，请核对后重新输入 (GB 11643)", field=field)
    return number


def checked_credit_code(value: str) -> str:
    """The code in upper case, or a 422 saying what is wrong with it (GB 32100)."""
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidCreditCode(f"统一社会信用代码应为 18 位，您输入了 {len(code)} 位")
    if not uscc_valid(code):
        raise InvalidCreditCode("统一社会信用代码校验码错误或含非法字符，请核对后重新输入 (GB 32100)")
    return code


class RegistrationService:
    """注册 use cases."""

    async def _unique(self, session: AsyncSession, *, username: str, id_type: str, id_number: str) -> None:
        accounts = AccountRepository.from_session(session)
        if await accounts.get_by_username(username) is not None:
            raise UsernameTaken(f"用户名 {username} 已被使用，请换一个")
        if await accounts.get_by_identity(id_type, id_number) is not None:
            raise IdentityRegistered("该证件已注册过账户，请直接登录")

    async def _create(self, session: AsyncSession, account_create: AccountCreate) -> Account:
        try:
            async with session.begin_nested():
                return await account_service.create(session, account_create=account_create)
        except IntegrityError as exc:
            # Two sign-ups of one name or number at once: the second loses cleanly.
            raise IdentityRegistered("该用户名或证件已注册过账户") from exc

    async def natural_person(
        self, session: AsyncSession, *, body: NaturalPersonSignUp, registry: RegistryClient
    ) -> Registered:
        """Sign a person up at L2 after the 人口库 confirms name and number."""
        id_number = checked_id_number(body.id_number)
        await self._unique(session, username=body.username, id_type="111", id_number=id_number)
        if not await registry.verify_person(
            id_number=id_number, name=body.name, on_behalf_of=f"sign-up:{body.username}"
        ):
            raise RegistryMismatch("姓名与公民身份号码不一致，或未在人口库登记，请核对后重试")
        account = await self._create(
            session,
            AccountCreate(
                username=body.username,
                password=body.password,
                kind="natural_person",
                name=body.name,
                id_type="111",
                id_number=id_number,
                phone=body.mobile,
                realname_level="L2",
            ),
        )
        return _registered(account)

    async def legal_person(
        self, session: AsyncSession, *, body: LegalPersonSignUp, registry: RegistryClient
    ) -> Registered:
        """Sign a unit up at L2 after the 法人库 confirms code, name and 法定代表人."""
        code = checked_credit_code(body.credit_code)
        rep_id = checked_id_number(body.legal_rep_id_number, field="法定代表人公民身份号码")
        await self._unique(session, username=body.username, id_type="001", id_number=code)
        verdict = await registry.verify_legal_person(
            credit_code=code, name=body.name, legal_rep_name=body.legal_rep_name, legal_rep_id_number=rep_id
        )
        if not verdict.matched:
            raise RegistryMismatch(
                "单位名称、法定代表人与统一社会信用代码不一致，或未在法人库登记，请核对后重试"
            )
        if not verdict.active:
            raise LegalPersonNotActive("该单位在法人库中的登记状态不是存续，不能注册")
        account = await self._create(
            session,
            AccountCreate(
                username=body.username,
                password=body.password,
                kind="legal_person",
                name=body.name,
                id_type="001",
                id_number=code,
                phone=body.mobile,
                realname_level="L2",
                legal_rep_name=body.legal_rep_name,
                legal_rep_id_number=rep_id,
            ),
        )
        return _registered(account)

    async def legal_person_prefill(
        self, *, credit_code: str, registry: RegistryClient
    ) -> LegalPersonPrefill | None:
        """What the sign-up form may pre-fill of a unit (public facts; the representative's name masked)."""
        record = await registry.legal_person_record(credit_code=checked_credit_code(credit_code))
        if record is None:
            return None
        return LegalPersonPrefill(
            credit_code=record["credit_code"],
            name=record["name"],
            legal_rep_name=mask_person_name(record["legal_rep_name"]) or "",
            address=record.get("address"),
            status=record["status"],
        )


def _registered(account: Account) -> Registered:
    return Registered(
        id=str(account.id),
        username=account.username,
        kind=account.kind,
        name=account.name,
        realname_level=account.realname_level,
        links={"token": "/api/v1/auth/token", "me": "/api/v1/me"},
    )


registration_service = RegistrationService()
