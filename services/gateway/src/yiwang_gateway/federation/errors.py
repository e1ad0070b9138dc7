"""Problems of cross-platform sign-in (OAuth 2.0 error codes as ``error`` where RFC 6749 has one)."""

from __future__ import annotations

from yiwang_common.http.problems import BadRequest, Conflict, NotFound, Problem


class UnknownClient(BadRequest):
    """RFC 6749 §4.1.2.1: an unknown ``client_id`` or a ``redirect_uri`` it did not register.

    Answered here, never redirected: the address cannot be trusted with a code or an error.
    """

    code = "invalid_client"
    title = "未登记的接入平台或回调地址"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, error="invalid_request")


class InvalidAuthorizationRequest(BadRequest):
    """``response_type``, PKCE (S256 only), ``state`` or ``nonce`` missing or wrong."""

    code = "invalid_request"
    title = "授权请求参数有误"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, error="invalid_request")


class DelegationNotConfigured(NotFound):
    """This platform does not delegate sign-in (it is not a city portal under 统分)."""

    code = "delegation_not_configured"
    title = "本平台未配置统一身份认证"


class DelegatedLoginFailed(BadRequest):
    """The province's answer does not belong to a sign-in started here (state, cookie, expiry)."""

    code = "delegated_login_failed"
    title = "统一身份认证登录失败，请重新登录"


class UpstreamUnavailable(Problem):
    """The province (or another platform) could not be reached."""

    status = 502
    code = "identity_provider_unavailable"
    title = "身份认证平台暂时无法访问，请稍后再试"


class RegisterAtProvince(Conflict):
    """统分: accounts live at the province; a city portal signs people in through it."""

    code = "register_at_province"
    title = "本平台账户由省级平台统一注册，请通过省级统一身份认证登录"


class SignInAtProvince(Conflict):
    """统分, a city portal: citizens sign in through the province (the code flow), not here.

    Answered alike to an unknown name, a citizen's name and a staff member's wrong password, so
    it tells nobody which names are staff accounts here; staff still sign in with a password.
    """

    code = "sign_in_at_province"
    title = "本平台个人和法人账户由省级平台统一管理，请通过省级统一身份认证登录"


class LogoutTokenRefused(BadRequest):
    """OpenID Connect Back-Channel Logout 1.0 §2.8: a logout token that is not good changes nothing."""

    code = "invalid_logout_token"
    title = "退出登录通知无效"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, error="invalid_request")


class EndSessionRefused(BadRequest):
    """RP-Initiated Logout 1.0: an ``id_token_hint``, ``client_id`` or ``post_logout_redirect_uri``
    that is not this platform's or not registered (answered here, never redirected)."""

    code = "invalid_logout_request"
    title = "退出登录请求无效"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, error="invalid_request")
