"""The verifier every service uses (ADR 0103): keys from each trusted issuer's JWKS, fetched over
HTTP, cached, fetched again for an unknown kid at most once per interval; static keys for tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from yiwang_common.auth import Principal, TokenIssuer, TokenVerifier
from yiwang_common.config import AuthSettings, TrustedIssuer
from yiwang_common.http.problems import Unauthorized
from yiwang_common.jwks import SigningKey, public_jwk
from yiwang_common.keys import generate_keypair

CITIZEN = Principal(sub="u1", name="张三", kind="natural_person", roles=frozenset({"applicant"}))


class JwksServer:
    """Another issuer's JWKS endpoint (behind httpx.MockTransport) that counts its fetches."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.fetches = 0
        self.fail = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.fail:
            return httpx.Response(503)
        return httpx.Response(200, json=self.document)


def issuer_for(name: str, *, audience: str = "yiwang") -> TokenIssuer:
    private, public = generate_keypair()
    return TokenIssuer(
        AuthSettings(
            issuer=name, audience=audience, private_key_pem=SecretStr(private), public_key_pem=public
        )
    )


def publish(server: JwksServer, *issuers: TokenIssuer) -> None:
    server.document = {"keys": [public_jwk(k.key) for i in issuers for k in i.keys]}


@pytest.fixture
def server() -> JwksServer:
    return JwksServer()


@pytest.fixture
async def http(server: JwksServer) -> Any:
    async with httpx.AsyncClient(transport=httpx.MockTransport(server), base_url="http://issuer") as client:
        yield client


async def test_keys_are_fetched_once_and_cached(server: JwksServer, http: httpx.AsyncClient) -> None:
    issuer = issuer_for("yiwang")
    publish(server, issuer)
    verifier = TokenVerifier(AuthSettings(jwks_url="http://issuer/jwks"), http_client=http)
    for _ in range(3):
        assert (await verifier.averify(issuer.issue(CITIZEN))).sub == "u1"
    assert server.fetches == 1
    # The sync path (no I/O) uses what was fetched.
    assert verifier.verify(issuer.issue(CITIZEN)).sub == "u1"


async def test_an_unknown_kid_fetches_again_but_at_most_once_per_interval(
    server: JwksServer, http: httpx.AsyncClient
) -> None:
    old = issuer_for("yiwang")
    publish(server, old)
    verifier = TokenVerifier(
        AuthSettings(jwks_url="http://issuer/jwks", jwks_min_refresh_seconds=3600), http_client=http
    )
    await verifier.averify(old.issue(CITIZEN))
    stranger = issuer_for("yiwang")
    forged = stranger.issue(CITIZEN)
    for _ in range(5):
        with pytest.raises(Unauthorized):
            await verifier.averify(forged)
    assert server.fetches == 1, "forged kids must not make the verifier hammer the issuer"


async def test_requests_arriving_during_the_first_fetch_wait_for_it() -> None:
    """A burst of first requests (every staff member after a restart) is not refused while one of
    them fetches the JWKS: the others wait for that fetch instead of answering "unknown key"."""
    issuer = issuer_for("yiwang")
    server = JwksServer()
    publish(server, issuer)
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return server(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow), base_url="http://issuer") as http:
        verifier = TokenVerifier(AuthSettings(jwks_url="http://issuer/jwks"), http_client=http)
        burst = [asyncio.create_task(verifier.averify(issuer.issue(CITIZEN))) for _ in range(5)]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in burst), "they must wait for the fetch in flight"
        release.set()
        principals = await asyncio.gather(*burst)
    assert [p.sub for p in principals] == ["u1"] * 5
    assert server.fetches == 1


async def test_a_rotated_key_is_picked_up_on_its_first_token(
    server: JwksServer, http: httpx.AsyncClient
) -> None:
    old, new = issuer_for("yiwang"), issuer_for("yiwang")
    publish(server, old)
    verifier = TokenVerifier(
        AuthSettings(jwks_url="http://issuer/jwks", jwks_min_refresh_seconds=0), http_client=http
    )
    await verifier.averify(old.issue(CITIZEN))
    publish(server, old, new)
    assert (await verifier.averify(new.issue(CITIZEN))).sub == "u1"
    assert server.fetches == 2


async def test_an_issuer_that_is_down_keeps_the_known_keys(
    server: JwksServer, http: httpx.AsyncClient
) -> None:
    issuer = issuer_for("yiwang")
    publish(server, issuer)
    verifier = TokenVerifier(
        AuthSettings(jwks_url="http://issuer/jwks", jwks_cache_seconds=1, jwks_min_refresh_seconds=0),
        http_client=http,
    )
    await verifier.averify(issuer.issue(CITIZEN))
    server.fail = True
    verifier.source("yiwang")._fetched_at = 0.0  # type: ignore[attr-defined]  # stale: the next lookup fetches
    assert (await verifier.averify(issuer.issue(CITIZEN))).sub == "u1"
    assert server.fetches == 2


async def test_trusted_issuers_each_verify_with_their_own_keys_only(
    server: JwksServer, http: httpx.AsyncClient
) -> None:
    province, city, stranger = (
        issuer_for("https://province.example"),
        issuer_for("https://city.example"),
        issuer_for("https://x.example"),
    )
    publish(server, province)
    settings = AuthSettings(
        issuer="https://city.example",
        public_key_pem=city.keys[0].key.as_pem(private=False).decode(),
        trusted_issuers=[TrustedIssuer(issuer="https://province.example", jwks_url="http://issuer/jwks")],
    )
    verifier = TokenVerifier(settings, http_client=http)
    assert verifier.issuers == ["https://city.example", "https://province.example"]
    assert (await verifier.averify(city.issue(CITIZEN))).issuer == "https://city.example"
    assert (await verifier.averify(province.issue(CITIZEN))).issuer == "https://province.example"
    with pytest.raises(Unauthorized, match="不受信任"):
        await verifier.averify(stranger.issue(CITIZEN))
    # A province-signed token naming the city as issuer fails: each issuer has its own keys.
    impostor = TokenIssuer(
        AuthSettings(issuer="https://city.example", private_key_pem=SecretStr(_pem(province))),
        keys=province.keys,
    )
    with pytest.raises(Unauthorized):
        await verifier.averify(impostor.issue(CITIZEN))


def _pem(issuer: TokenIssuer) -> str:
    return issuer.keys[0].key.as_pem(private=True).decode()


async def test_a_static_jwks_serves_tests_and_offline_use(server: JwksServer) -> None:
    issuer = issuer_for("yiwang")
    document = json.dumps({"keys": [public_jwk(k.key) for k in issuer.keys]})
    verifier = TokenVerifier(AuthSettings(jwks=document))
    assert verifier.verify(issuer.issue(CITIZEN)).sub == "u1"
    with pytest.raises(Unauthorized):
        verifier.verify(issuer_for("yiwang").issue(CITIZEN))


def test_the_issuer_signs_with_the_key_active_now_and_publishes_all() -> None:
    a, b = (
        SigningKey.from_pem(generate_keypair()[0], activate_at=0),
        SigningKey.from_pem(generate_keypair()[0], activate_at=1000),
    )
    issuer = TokenIssuer(AuthSettings(), keys=[SigningKey(a.key, 0, retire_at=2000), b])
    assert issuer.current_key(now=999).kid == a.kid
    assert issuer.current_key(now=1000).kid == b.kid
    assert {k["kid"] for k in issuer.jwks(now=1500)["keys"]} == {a.kid, b.kid}
    assert {k["kid"] for k in issuer.jwks(now=2000)["keys"]} == {b.kid}


def test_claims_of_the_wrong_shape_are_401_never_a_crash() -> None:
    from joserfc import jwt as jose_jwt

    issuer = issuer_for("yiwang")
    verifier = TokenVerifier(AuthSettings(jwks=json.dumps(issuer.jwks())))
    key = issuer.keys[0]
    for claims in (
        {"iss": ["yiwang"], "sub": "u1"},
        {"iss": {"a": 1}},
        {"iss": "yiwang", "sub": 1, "exp": "x"},
    ):
        token = jose_jwt.encode(
            {"alg": "Ed25519", "typ": "at+jwt", "kid": key.kid}, claims, key.key, algorithms=["Ed25519"]
        )
        with pytest.raises(Unauthorized):
            verifier.verify(token)
    for garbage in ("", "a.b", "a.b.c", "é.é.é", "x" * 10_000):
        with pytest.raises(Unauthorized):
            verifier.verify(garbage)


class TestIdTokens:
    """统分 (ADR 0114): ID tokens of a trusted issuer, never taken for access tokens or the reverse."""

    def _verifier(self, province: TokenIssuer) -> TokenVerifier:
        own = issuer_for("city")
        pem = province.keys[0].key.as_pem(private=False).decode()
        return TokenVerifier(
            AuthSettings(
                issuer="city",
                public_key_pem=own.keys[0].key.as_pem(private=False).decode(),
                trusted_issuers=[TrustedIssuer(issuer="province", public_key_pem=pem)],
            )
        )

    async def test_an_id_token_verifies_with_its_audience_and_nonce_only(self) -> None:
        province = issuer_for("province")
        verifier = self._verifier(province)
        token = province.issue_id_token(CITIZEN, audience="portal-city", nonce="n-1", auth_time=1)
        claims = await verifier.averify_id_token(token, audience="portal-city", nonce="n-1")
        assert (claims["iss"], claims["sub"], claims["aud"], claims["nonce"]) == (
            "province",
            "u1",
            "portal-city",
            "n-1",
        )
        for audience, nonce in (("portal-other", "n-1"), ("portal-city", "n-2")):
            with pytest.raises(Unauthorized):
                await verifier.averify_id_token(token, audience=audience, nonce=nonce)

    async def test_id_and_access_tokens_are_not_interchangeable(self) -> None:
        province = issuer_for("province")
        verifier = self._verifier(province)
        id_token = province.issue_id_token(CITIZEN, audience="yiwang", nonce="n", auth_time=1)
        with pytest.raises(Unauthorized):
            await verifier.averify(id_token)
        with pytest.raises(Unauthorized):
            await verifier.averify_id_token(province.issue(CITIZEN), audience="yiwang", nonce="n")

    async def test_an_untrusted_issuers_id_token_is_refused(self) -> None:
        verifier = self._verifier(issuer_for("province"))
        stranger = issuer_for("province-impostor")
        with pytest.raises(Unauthorized, match="不受信任"):
            await verifier.averify_id_token(
                stranger.issue_id_token(CITIZEN, audience="portal-city", nonce="n", auth_time=1),
                audience="portal-city",
                nonce="n",
            )
        # The right issuer's name on a token signed by another key: unknown key, refused.
        impostor = TokenIssuer(
            AuthSettings(
                issuer="province",
                private_key_pem=SecretStr(generate_keypair()[0]),
            )
        )
        with pytest.raises(Unauthorized):
            await verifier.averify_id_token(
                impostor.issue_id_token(CITIZEN, audience="portal-city", nonce="n", auth_time=1),
                audience="portal-city",
                nonce="n",
            )


def test_trusted_issuers_alone_are_not_the_own_keys(tmp_path: Any) -> None:
    """A platform that trusts its province still needs its own keys (ADR 0114)."""
    settings = AuthSettings(trusted_issuers=[TrustedIssuer(issuer="province", jwks_url="http://p/jwks")])
    assert not settings.has_verification_keys
