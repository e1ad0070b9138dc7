"""Problems of the identity domain (OAuth 2.0 error codes as ``error`` where RFC 6749 has one)."""

from __future__ import annotations

from yiwang_common.http.problems import BadRequest, Conflict, Forbidden, TooManyRequests, Unauthorized


class InvalidGrant(BadRequest):
    """RFC 6749 ``invalid_grant``: the refresh token is unknown, used, expired or revoked."""

    code = "invalid_grant"
    title = "刷新令牌无效或已失效，请重新登录"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, error="invalid_grant")


class InvalidTokenRequest(BadRequest):
    """RFC 6749 ``invalid_request`` / ``unsupported_grant_type``: the token request is malformed."""

    code = "invalid_request"
    title = "登录请求格式错误"

    def __init__(self, detail: str | None = None, *, error: str = "invalid_request") -> None:
        super().__init__(detail, error=error)


class InvalidSmsCode(Unauthorized):
    """Wrong, expired or already used code; the three are not told apart."""

    code = "invalid_sms_code"
    title = "验证码错误或已失效"


class SmsThrottled(TooManyRequests):
    """Codes are sent at most once a minute and a few times an hour per number and per client."""

    code = "sms_throttled"
    title = "验证码发送过于频繁，请稍后再试"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            f"请在 {retry_after} 秒后重试 (too many codes requested; retry after {retry_after} s)",
            retry_after=retry_after,
        )


class CurrentPasswordWrong(Forbidden):
    """A password change needs the current password."""

    code = "current_password_wrong"
    title = "原密码错误"


class PasswordAtHomePlatform(Conflict):
    """An account that stands for another platform's (统分, 分建) has no password here: the
    password is the home platform's and is changed there."""

    code = "password_at_home_platform"
    title = "您的账户由注册平台管理，请在注册平台修改密码"


class RotationPending(Conflict):
    """A new signing key is published and not yet signing; rotate again after it activates."""

    code = "rotation_pending"
    title = "已有待启用的签名密钥"


class StaffOnly(Forbidden):
    """The staff console's sign-in is for staff accounts only."""

    code = "staff_only"
    title = "此入口仅供政务服务工作人员使用"
