"""Routes: the OAuth 2.0 token endpoint, SMS codes, revocation, sign-out, password change, the
OpenID discovery document, the JWKS, and the administrators' signing-key rotation."""

from __future__ import annotations

import re
import time
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from yiwang_common.auth import ROLE_ADMIN, CurrentPrincipal, Principal, require_role
from yiwang_common.http import Unauthorized, problem_responses
from yiwang_common.http.problems import ValidationFailed
from yiwang_common.jwks import ALGORITHM
from yiwang_gateway.account.errors import InvalidCredentials, LoginThrottled
from yiwang_gateway.account.schemas import PrincipalOut
from yiwang_gateway.account.throttle import client_address
from yiwang_gateway.config import Settings
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.federation.errors import SignInAtProvince, UnknownClient
from yiwang_gateway.federation.service import PEER_CHECK_HEADER, FederationService
from yiwang_gateway.identity.errors import (
    CurrentPasswordWrong,
    InvalidGrant,
    InvalidSmsCode,
    InvalidTokenRequest,
    PasswordAtHomePlatform,
    RotationPending,
    SmsThrottled,
)
from yiwang_gateway.identity.keyring import KeyRing
from yiwang_gateway.identity.schemas import (
    SMS_CODE_PATTERN,
    SMS_GRANT,
    DiscoveryDocument,
    Jwks,
    PasswordChange,
    RevokeRequest,
    RotateRequest,
    SignedOut,
    SigningKeyOut,
    SignOutRequest,
    SmsCodeRequest,
    SmsCodeSent,
    TokenRequest,
    TokenResponse,
)
from yiwang_gateway.identity.service import CLIENT_API, IdentityService, TokenPair
from yiwang_gateway.identity.sms import SmsUnavailable

router = APIRouter(tags=["identity"], dependencies=GUARDS)
wellknown = APIRouter(tags=["identity"])

FORM = "application/x-www-form-urlencoded"
#: The token request is parsed here, not by FastAPI, because OAuth 2.0 sends a form and earlier
#: clients send JSON; both media types are documented with the one schema.
TOKEN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
        },
    }
}
#: Token answers must not be cached (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def document_token_request(app: FastAPI) -> None:
    """Put the ``TokenRequest`` schema that ``TOKEN_BODY`` names into the app's OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        spec = generate()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault(
            "TokenRequest", TokenRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _identity(request: Request) -> IdentityService:
    identity: IdentityService = request.app.state.identity
    return identity


def token_response(pair: TokenPair) -> TokenResponse:
    """The RFC 6749 answer of a sign-in or a refresh."""
    p = pair.principal
    return TokenResponse(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
        session_id=pair.session_id,
        principal=PrincipalOut(
            sub=p.sub,
            name=p.name,
            kind=p.kind,
            roles=sorted(p.roles),
            org_code=p.org_code,
            region=p.region,
            window=p.window,
        ),
    )


def _invalid(detail: str, errors: list[dict[str, Any]] | None = None) -> ValidationFailed:
    # Like every other body of the API, a malformed one is 422 validation_failed.
    return ValidationFailed(detail, errors=errors or [])


async def _token_request(request: Request) -> TokenRequest:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == FORM:
        form = await request.form()
        raw: Any = {k: v for k, v in form.items() if isinstance(v, str)}
    elif media == "application/json":
        try:
            raw = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise _invalid("请求体不是有效的 JSON (malformed JSON)") from exc
    else:
        raise InvalidTokenRequest(f"请以 {FORM} 或 application/json 提交 (unsupported media type)")
    if not isinstance(raw, dict):
        raise _invalid("请求体必须是对象 (the body must be an object)")
    if "grant_type" in raw and raw["grant_type"] not in (
        "password",
        "refresh_token",
        "authorization_code",
        SMS_GRANT,
    ):
        raise InvalidTokenRequest("不支持的授权类型 (unsupported grant_type)", error="unsupported_grant_type")
    try:
        body = TokenRequest.model_validate(raw)
    except ValidationError as exc:
        errors = [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise _invalid("登录请求字段有误 (invalid token request)", errors) from exc
    needed = {
        "password": ("username", "password"),
        "refresh_token": ("refresh_token",),
        "authorization_code": ("code", "redirect_uri", "client_id", "code_verifier"),
    }.get(body.grant_type, ("phone", "code"))
    missing = [name for name in needed if not getattr(body, name)]
    if missing:
        raise _invalid(
            f"缺少字段 (missing): {', '.join(missing)}",
            [{"loc": ["body", name], "msg": "Field required", "type": "missing"} for name in missing],
        )
    if body.grant_type == SMS_GRANT and not re.fullmatch(SMS_CODE_PATTERN, body.code or ""):
        raise _invalid(
            "验证码为 4 至 8 位数字 (the SMS code is 4 to 8 digits)",
            [
                {
                    "loc": ["body", "code"],
                    "msg": "String should match pattern",
                    "type": "string_pattern_mismatch",
                }
            ],
        )
    return body


@router.post(
    "/auth/token",
    summary="登录/刷新 OAuth 2.0 token endpoint",
    response_model=TokenResponse,
    responses=problem_responses(
        InvalidTokenRequest,
        InvalidGrant,
        InvalidCredentials,
        InvalidSmsCode,
        LoginThrottled,
        UnknownClient,
        SignInAtProvince,
    ),
    openapi_extra=TOKEN_BODY,
)
async def issue_token(request: Request, session: SessionDep) -> JSONResponse:
    """Sign in with a password or an SMS code, or spend a refresh token (RFC 6749 §4.3, §6).

    Grants: ``password`` (``username``, ``password``), ``refresh_token`` (``refresh_token``) and
    ``urn:yiwang:params:oauth:grant-type:sms-code`` (``phone``, ``code`` from
    ``POST /api/v1/auth/sms-code``), and for registered city portals (统分) ``authorization_code``
    (``code``, ``redirect_uri``, ``client_id``, ``code_verifier``; the answer adds ``id_token``):
    a wrong verifier, another redirect URI or a code used before is 400 ``invalid_grant`` (a
    replayed code also ends the session it opened). Under 分建 a user name this platform does
    not know is checked at the other platforms (mutual recognition; SMS codes are this
    platform's own accounts' only). 统分, at a city portal: the password grant is for its staff,
    and citizens get 409 ``sign_in_at_province`` (alike for any name or password that is not a
    staff member's), as does the SMS grant. The answer carries a short-lived access token and a refresh
    token that is good once: a refresh token presented twice ends its whole session (400
    ``invalid_grant``). Failed sign-ins are throttled per account name (or number) and per client
    address (429 with ``Retry-After``), then locked for a while.
    """
    body = await _token_request(request)
    identity = _identity(request)
    settings: Settings = request.app.state.settings
    address = client_address(request, settings.login)
    sessionmaker = request.app.state.sessionmaker
    id_token = None
    if body.grant_type == "password":
        if not body.username or not body.password:
            raise InvalidTokenRequest("缺少用户名或口令 (username and password are required)")
        # 分建: a name this platform does not know is checked at the other levels' platforms.
        federation: FederationService = request.app.state.federation
        pair = await federation.sign_in_password(
            session,
            sessionmaker,
            username=body.username,
            password=body.password,
            address=address,
            client=CLIENT_API,
            forwarded=request.headers.get(PEER_CHECK_HEADER) is not None,
        )
    elif body.grant_type == "authorization_code":
        # 统分: a city portal redeems the code its user brought back from /authorize.
        federation = request.app.state.federation
        federation.client(body.client_id or "", body.redirect_uri or "")
        pair, id_token = await federation.redeem_code(
            session,
            sessionmaker,
            code=body.code or "",
            client_id=body.client_id or "",
            redirect_uri=body.redirect_uri or "",
            code_verifier=body.code_verifier or "",
            address=address,
        )
    elif body.grant_type == "refresh_token":
        if not body.refresh_token:
            raise InvalidTokenRequest("缺少刷新令牌 (refresh_token is required)")
        pair = await identity.refresh(session, sessionmaker, refresh_token=body.refresh_token)
    else:
        if not body.phone or not body.code:
            raise InvalidTokenRequest("缺少手机号码或验证码 (phone and code are required)")
        federation = request.app.state.federation
        federation.refuse_local_sms()
        try:
            pair = await identity.sign_in_sms(
                session, sessionmaker, phone=body.phone, code=body.code, address=address, client=CLIENT_API
            )
        except InvalidSmsCode as exc:
            # 分建: a peer's citizen has no number here; say what works instead.
            hint = federation.sms_hint()
            if not hint:
                raise
            raise InvalidSmsCode(f"验证码错误或已失效。{hint}") from exc
    answer = token_response(pair).model_copy(update={"id_token": id_token}).model_dump(mode="json")
    if id_token is None:
        # Only the code flow answers an ID token; other grants keep their earlier shape.
        del answer["id_token"]
    return JSONResponse(answer, headers=NO_STORE)


@router.post(
    "/auth/sms-code",
    summary="获取短信验证码 Send a one-time sign-in code",
    response_model=SmsCodeSent,
    status_code=202,
    responses=problem_responses(SmsThrottled, LoginThrottled, SmsUnavailable, SignInAtProvince),
)
async def send_sms_code(body: SmsCodeRequest, request: Request, session: SessionDep) -> SmsCodeSent:
    """Send a sign-in code by SMS to the number of an account.

    统分, at a city portal: 409 ``sign_in_at_province`` for every number (citizens sign in
    through the province). 分建: only this platform's own accounts get a code; a peer's citizen
    signs in with the password.

    The answer is the same whether or not an account has the number. Codes are good once, for a
    few minutes and a few tries; one number gets at most one a minute and a few an hour, one
    client address a few dozen an hour (429 with ``Retry-After``).
    """
    settings: Settings = request.app.state.settings
    request.app.state.federation.refuse_local_sms()
    expires_in, resend_after = await _identity(request).send_sms_code(
        session, phone=body.phone, address=client_address(request, settings.login)
    )
    return SmsCodeSent(expires_in=expires_in, resend_after=resend_after)


@router.post(
    "/auth/revoke",
    summary="撤销令牌 Revoke a refresh token (RFC 7009)",
    status_code=200,
    response_class=Response,
    responses={
        200: {"description": "Revoked, or unknown (RFC 7009 §2.2 answers both alike)"},
        **problem_responses(InvalidTokenRequest),
    },
)
async def revoke(body: RevokeRequest, request: Request, session: SessionDep) -> Response:
    """End the session of a refresh token; every refresh token of the family dies with it.

    An access token cannot be revoked this way: it expires within ``auth.token_ttl_seconds``
    (use ``POST /api/v1/auth/sign-out`` with it to end its session).
    """
    await _identity(request).revoke_refresh_token(session, token=body.token)
    return Response(status_code=200, headers=NO_STORE)


@router.post(
    "/auth/sign-out",
    summary="退出登录 Sign out (this session or everywhere)",
    response_model=SignedOut,
    responses=problem_responses(Unauthorized),
)
async def sign_out(
    principal: CurrentPrincipal, request: Request, session: SessionDep, body: SignOutRequest | None = None
) -> SignedOut:
    """End the session the access token belongs to, or with ``everywhere`` every session of the
    account. Refresh tokens stop working at once; access tokens already handed out expire within
    ``auth.token_ttl_seconds``."""
    ended = await _identity(request).sign_out(session, principal, everywhere=bool(body and body.everywhere))
    return SignedOut(sessions_ended=ended)


@router.post(
    "/auth/password",
    summary="修改密码 Change the password (ends every session)",
    response_model=SignedOut,
    responses=problem_responses(
        Unauthorized, InvalidCredentials, CurrentPasswordWrong, LoginThrottled, PasswordAtHomePlatform
    ),
)
async def change_password(
    body: PasswordChange, principal: CurrentPrincipal, request: Request, session: SessionDep
) -> SignedOut:
    """Set a new password; every session of the account ends (sign in again with the new one).

    An account that stands for another platform's (统分 at a city, 分建 a recognised citizen)
    has no password here: 409 ``password_at_home_platform`` (change it at the home platform)."""
    settings: Settings = request.app.state.settings
    ended = await _identity(request).change_password(
        session,
        request.app.state.sessionmaker,
        principal,
        current_password=body.current_password,
        new_password=body.new_password,
        address=client_address(request, settings.login),
    )
    return SignedOut(sessions_ended=ended)


AdminPrincipal = require_role(ROLE_ADMIN)


@router.get(
    "/admin/signing-keys",
    summary="签名密钥 The signing keys in the JWKS",
    response_model=list[SigningKeyOut],
    responses=problem_responses(Unauthorized),
)
async def list_signing_keys(request: Request, principal: Principal = AdminPrincipal) -> list[SigningKeyOut]:
    """Every key the JWKS lists: the next one, the one that signs, the ones retiring."""
    keyring: KeyRing = request.app.state.keyring
    return keys_out(await keyring.records(request.app.state.sessionmaker))


def keys_out(records: Any) -> list[SigningKeyOut]:
    """The key ring as the API and the CLI show it."""
    now = time.time()
    active = max(
        (r.activate_at.timestamp() for r in records if r.activate_at.timestamp() <= now), default=None
    )
    out = []
    for r in records:
        at = r.activate_at.timestamp()
        state = "next" if at > now else ("active" if at == active else "retiring")
        out.append(SigningKeyOut(kid=r.kid, activate_at=r.activate_at, retire_at=r.retire_at, state=state))
    return out


@router.post(
    "/admin/signing-keys",
    summary="轮换签名密钥 Rotate the signing key",
    response_model=list[SigningKeyOut],
    status_code=201,
    responses=problem_responses(Unauthorized, RotationPending),
)
async def rotate_signing_key(
    request: Request, body: RotateRequest | None = None, principal: Principal = AdminPrincipal
) -> list[SigningKeyOut]:
    """Publish a new key now; it signs after the lead, and the older keys leave the JWKS once
    the tokens they signed have expired. The answer is the key ring after the rotation."""
    keyring: KeyRing = request.app.state.keyring
    sessionmaker = request.app.state.sessionmaker
    await keyring.rotate(sessionmaker, lead_seconds=body.lead_seconds if body else None)
    return keys_out(await keyring.records(sessionmaker))


class JwkSetResponse(JSONResponse):
    """RFC 7517 §8.5: a JWKS has its own media type."""

    media_type = "application/jwk-set+json"


@wellknown.get(
    "/.well-known/jwks.json",
    summary="公钥集 JSON Web Key Set",
    response_model=Jwks,
    response_class=JwkSetResponse,
)
async def jwks(request: Request) -> JwkSetResponse:
    """The public keys that verify the gateway's tokens: the next key before it signs, the
    current one, and retired ones until the tokens they signed have expired."""
    keyring: KeyRing = request.app.state.keyring
    return JwkSetResponse(
        keyring.issuer.jwks(),
        # Verifiers cache it; a short max-age keeps a rotation's lead comfortably longer.
        headers={"Cache-Control": "public, max-age=60"},
    )


@wellknown.get(
    "/.well-known/openid-configuration",
    summary="OpenID 配置 OpenID Provider metadata",
    response_model=DiscoveryDocument,
)
async def discovery(request: Request) -> DiscoveryDocument:
    """Where the JWKS and the endpoints are (OpenID Connect Discovery 1.0, RFC 8414)."""
    settings: Settings = request.app.state.settings
    base = str(request.base_url).rstrip("/")
    delegating = settings.platform.deployment_mode == "semi_unified" and bool(settings.federation.clients)
    extra: dict[str, Any] = {"authorization_endpoint": f"{base}/authorize"} if delegating else {}
    return DiscoveryDocument(
        **extra,
        issuer=settings.auth.issuer,
        jwks_uri=f"{base}/.well-known/jwks.json",
        token_endpoint=f"{base}/api/v1/auth/token",
        revocation_endpoint=f"{base}/api/v1/auth/revoke",
        # RP-Initiated Logout 1.0 (统分): the browser endpoint that takes an id_token_hint; other
        # platforms name the API's sign-out (a bearer call), as before (ADR 0116).
        end_session_endpoint=f"{base}/end-session" if delegating else f"{base}/api/v1/auth/sign-out",
        grant_types_supported=["password", "refresh_token", SMS_GRANT]
        + (["authorization_code"] if delegating else []),
        # The code flow (统分) only where city portals are registered.
        response_types_supported=["token"] + (["code"] if delegating else []),
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=[ALGORITHM],
        token_endpoint_auth_methods_supported=["none"],
        claims_supported=[
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "jti",
            "sid",
            "name",
            "kind",
            "roles",
            "org",
            "region",
            "act_for",
            "agent_scopes",
            "rnl",
        ],
        revocation_endpoint_auth_methods_supported=["none"],
        code_challenge_methods_supported=["S256"] if delegating else [],
        backchannel_logout_supported=delegating,
        backchannel_logout_session_supported=delegating,
    )
