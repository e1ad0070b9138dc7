"""Problems of the account domain."""

from __future__ import annotations

from yiwang_common.http.problems import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    UnprocessableContent,
)


class InvalidCredentials(Unauthorized):
    """Unknown user or wrong password: the two are not told apart."""

    code = "invalid_credentials"
    title = "用户名或密码错误"


class AccountNotFound(NotFound):
    """The token names an account that no longer exists."""

    code = "account_not_found"
    title = "账户不存在"


class InvalidIdNumber(UnprocessableContent):
    """证件号码 fails its check digit."""

    code = "invalid_id_number"
    title = "证件号码校验失败"


class LoginThrottled(TooManyRequests):
    """Too many failed logins for this account name or from this address; the same for every name."""

    code = "login_throttled"
    title = "登录失败次数过多，请稍后再试"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            f"请在 {retry_after} 秒后重试 (too many failed logins; retry after {retry_after} s)",
            retry_after=retry_after,
        )


class InvalidCreditCode(UnprocessableContent):
    """统一社会信用代码 fails its check character (GB 32100)."""

    code = "invalid_credit_code"
    title = "统一社会信用代码校验失败"


class RegistryMismatch(UnprocessableContent):
    """The base registry has no exact match; which part differed is not told (the registry is not for probing)."""

    code = "registry_mismatch"
    title = "与基础库登记信息不一致"


class LegalPersonNotActive(UnprocessableContent):
    """The unit is registered, but not 存续 / 在业 (revoked, cancelled, moved away)."""

    code = "legal_person_not_active"
    title = "该单位登记状态不允许注册"


class UsernameTaken(Conflict):
    """Somebody already has this user name."""

    code = "username_taken"
    title = "用户名已被使用"


class IdentityRegistered(Conflict):
    """This 公民身份号码 or 统一社会信用代码 already has an account (一人一号)."""

    code = "identity_registered"
    title = "该证件已注册账户"


class NotAuthorisedAgent(Forbidden):
    """The caller holds no authorisation (经办人授权) of this legal person, or it was revoked."""

    code = "not_authorised_agent"
    title = "未获该单位授权"


class AgentAuthorisationExpired(Forbidden):
    """The authorisation is outside its validity dates (not yet valid, or expired)."""

    code = "agent_authorisation_expired"
    title = "经办人授权不在有效期内"


class AgentBeyondAuthority(Forbidden):
    """The action or the item is outside the agent's scope of authority (授权范围)."""

    code = "agent_beyond_authority"
    title = "超出经办人授权范围"


class NotLegalRepresentative(Forbidden):
    """Only the legal person (its account, or its 法定代表人 acting for it) grants and revokes agents."""

    code = "not_legal_representative"
    title = "仅法定代表人可管理经办人"


class AgentNotRegistered(UnprocessableContent):
    """The person to authorise has no real-name (L2+) account with that name and number."""

    code = "agent_not_registered"
    title = "经办人尚未实名注册"


class AuthorisationNotFound(NotFound):
    """No such authorisation of the caller's legal person."""

    code = "authorisation_not_found"
    title = "授权记录不存在"


class AuthorisationDatesInvalid(UnprocessableContent):
    """The validity dates are inverted, too long or already over."""

    code = "authorisation_dates_invalid"
    title = "授权有效期不正确"


class LegalPersonUnknown(NotFound):
    """No unit with this code in the 法人库."""

    code = "legal_person_not_found"
    title = "法人库中无此单位"


class RealnameAlreadyVerified(Conflict):
    """The account is at L3 already (or is a staff account, which has no real-name level)."""

    code = "realname_already_verified"
    title = "该账户已是最高实名等级或不适用实名等级"
