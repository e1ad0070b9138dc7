"""Problems of the account domain."""

from __future__ import annotations

from yiwang_common.http.problems import NotFound, Unauthorized, UnprocessableContent


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
