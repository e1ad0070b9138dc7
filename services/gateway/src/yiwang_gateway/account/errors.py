"""Problems of the account domain."""

from __future__ import annotations

from yiwang_common.http.problems import NotFound, TooManyRequests, Unauthorized, UnprocessableContent


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
