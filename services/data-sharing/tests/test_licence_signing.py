"""Signed e-licences: signing on registration, verification, status, expiry, tampering, rotation, SM2."""

from __future__ import annotations

import base64
import os
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope, utcnow
from yiwang_common.testing import outbox_events
from yiwang_datasharing.db import messaging
from yiwang_datasharing.licence.models import ELicenceRecord, LicenceType, SigningKey
from yiwang_datasharing.licence.service import LicenceSigner
from yiwang_datasharing.licence.signing import (
    KeySealer,
    SignedLicence,
    b64,
    canonical,
    check_signature,
    generate_key,
    load_key,
    sign_licence,
    unb64,
)

ORG_CODE = "11530428015176456L"
LICENCE = {"identifier": "1.2.156.3005.2.X", "holder_name": "张三", "data": {"工程名称": "教学楼"}}


def flipped(text: str, index: int) -> str:
    """``text`` with one byte changed (the result may not even be UTF-8: then it is not a document)."""
    raw = bytearray(text.encode())
    raw[index] ^= 0x01
    return raw.decode("utf-8", errors="replace")


class TestCanonicalSigning:
    def test_canonical_form_is_independent_of_key_order_and_spacing(self) -> None:
        assert canonical({"b": 1, "a": "张三"}) == canonical({"a": "张三", "b": 1})
        assert canonical({"b": 1, "a": "张三"}) == '{"a":"张三","b":1}'.encode()

    @pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
    def test_signed_licence_verifies(self, algorithm: Any) -> None:
        key = generate_key(algorithm)
        signed = sign_licence(LICENCE, key, kid="k1", signed_at="2026-12-02T00:00:00Z")
        assert check_signature(signed, key.public_text()).licence == LICENCE

    def test_every_changed_byte_of_the_payload_fails(self) -> None:
        key = generate_key("ed25519")
        signed = sign_licence(LICENCE, key, kid="k1", signed_at="2026-12-02T00:00:00Z")
        for i in range(len(signed.payload.encode())):
            tampered = SignedLicence(flipped(signed.payload, i), signed.algorithm, signed.kid, signed.value)
            assert check_signature(tampered, key.public_text()).licence is None, i

    @pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
    def test_every_changed_byte_of_the_signature_fails(self, algorithm: Any) -> None:
        key = generate_key(algorithm)
        signed = sign_licence(LICENCE, key, kid="k1", signed_at="2026-12-02T00:00:00Z")
        raw = unb64(signed.value)
        for i in range(len(raw)):
            bad = bytearray(raw)
            bad[i] ^= 0x80
            tampered = SignedLicence(signed.payload, signed.algorithm, signed.kid, b64(bytes(bad)))
            assert check_signature(tampered, key.public_text()).licence is None, i

    def test_a_non_canonical_spelling_of_the_same_payload_fails(self) -> None:
        key = generate_key("ed25519")
        signed = sign_licence(LICENCE, key, kid="k1", signed_at="2026-12-02T00:00:00Z")
        spaced = SignedLicence(
            signed.payload.replace(":", ": ", 1), signed.algorithm, signed.kid, signed.value
        )
        assert check_signature(spaced, key.public_text()).licence is None

    def test_kid_and_algorithm_are_inside_the_signed_bytes(self) -> None:
        key = generate_key("ed25519")
        signed = sign_licence(LICENCE, key, kid="k1", signed_at="2026-12-02T00:00:00Z")
        assert (
            check_signature(
                SignedLicence(signed.payload, signed.algorithm, "k2", signed.value), key.public_text()
            ).licence
            is None
        )
        assert (
            check_signature(
                SignedLicence(signed.payload, "SM2-SM3", "k1", signed.value), key.public_text()
            ).licence
            is None
        )

    @pytest.mark.parametrize(
        "payload",
        ['{"a":9007199254740993}', "[1]", "not json", '{"licence":1,"protected":{}}', ""],
    )
    def test_payloads_that_are_no_signed_licence_fail_without_error(self, payload: str) -> None:
        key = generate_key("ed25519")
        assert (
            check_signature(
                SignedLicence(payload, "Ed25519", "k1", b64(bytes(64))), key.public_text()
            ).licence
            is None
        )

    def test_garbage_sm2_signature_is_a_plain_no(self) -> None:
        key = generate_key("sm2")
        signed = sign_licence(LICENCE, key, kid="k1", signed_at="2026-12-02T00:00:00Z")
        for garbage in (bytes(64), b"\xff" * 64):
            bad = SignedLicence(signed.payload, signed.algorithm, signed.kid, b64(garbage))
            assert check_signature(bad, key.public_text()).licence is None

    def test_sm2_key_whose_public_x_begins_with_04_verifies(self) -> None:
        # One SM2 key in 256 has a public x starting "04"; gmssl's lstrip("04") used to eat those digits.
        key = load_key(
            "sm2", bytes.fromhex("05f5c6818a2dec005dafd7486e643496ff6556a2bf8b5e3a861d974eea91502d")
        )
        assert key.public_text().startswith("04") and len(key.public_text()) == 128
        signed = sign_licence(LICENCE, key, kid="k1", signed_at="2026-12-02T00:00:00Z")
        assert check_signature(signed, key.public_text()).licence == LICENCE

    def test_another_units_key_does_not_verify(self) -> None:
        key, other = generate_key("ed25519"), generate_key("ed25519")
        signed = sign_licence(LICENCE, key, kid="k1", signed_at="2026-12-02T00:00:00Z")
        assert check_signature(signed, other.public_text()).licence is None

    def test_sealed_private_key_opens_only_with_its_kid(self) -> None:
        sealer = KeySealer(os.urandom(32))
        sealed = sealer.seal("k1", b"secret-key-bytes")
        assert b"secret-key-bytes" not in sealed
        assert sealer.open("k1", sealed) == b"secret-key-bytes"
        with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
            sealer.open("k2", sealed)


async def held(client: httpx.AsyncClient, auth: Any, story: Any) -> dict[str, Any]:
    body = (await client.get("/api/v1/licences", headers=auth(story.applicant_id))).json()
    return next(h for h in body if h["identifier"] == story.licence.identifier)


async def verify(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/licence-verifications/{token}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def issued(deliver: Any, story: Any) -> Any:
    await deliver(story.submitted(), 0)
    await deliver(story.decided(), 3)
    return story


class TestSignedRegistration:
    async def test_registered_licence_is_signed_with_the_issuing_units_key(
        self,
        issued: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        auth: Any,
    ) -> None:
        async with sessionmaker() as session:
            row = await session.get(ELicenceRecord, issued.licence.identifier)
            assert row is not None and row.signature_kid is not None
            key = await session.get(SigningKey, row.signature_kid)
        assert row.signature_alg == "Ed25519"
        assert key is not None and key.org_code == ORG_CODE and key.retired_at is None
        me = await held(client, auth, issued)
        assert me["status"] == "valid" and me["signature_kid"] == row.signature_kid
        assert (await verify(client, me["verification_token"]))["result"] == "valid"
        events = await outbox_events(
            sessionmaker, messaging.outbox, "yiwang.datasharing.licence.registered.v1"
        )
        mine = [e for _, e in events if e["subject"] == issued.case_no]
        assert mine[0]["data"]["signature_kid"] == row.signature_kid

    async def test_private_keys_are_stored_sealed_and_never_served(
        self,
        issued: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        auth: Any,
    ) -> None:
        me = await held(client, auth, issued)
        response = await client.get(f"/api/v1/licence-keys/{me['signature_kid']}")
        assert response.status_code == 200
        assert set(response.json()) == {
            "kid",
            "org_code",
            "algorithm",
            "public_key",
            "created_at",
            "retired_at",
        }
        async with sessionmaker() as session:
            key = await session.get(SigningKey, me["signature_kid"])
        assert key is not None and len(key.sealed_private_key) == 12 + 32 + 16  # nonce + key + GCM tag

    async def test_presented_document_verifies_and_any_changed_byte_fails(
        self, issued: Any, client: httpx.AsyncClient, auth: Any
    ) -> None:
        response = await client.get(
            f"/api/v1/licences/{issued.licence.identifier}/document", headers=auth(issued.applicant_id)
        )
        assert response.status_code == 200
        document = response.json()
        ok = await client.post("/api/v1/licence-verifications", json=document)
        assert ok.status_code == 200 and ok.json()["result"] == "valid"
        payload = document["payload"]
        # A sample of positions across the whole payload (every byte is covered by the unit test).
        for i in range(0, len(payload.encode()), 37):
            bad = {**document, "payload": flipped(payload, i)}
            answer = await client.post("/api/v1/licence-verifications", json=bad)
            assert answer.status_code == 200 and answer.json()["result"] == "invalid", i
            assert "type_name" not in answer.json() or answer.json()["type_name"] is None
        signature = unb64(document["signature"]["value"])
        for i in (0, 17, len(signature) - 1):
            raw = bytearray(signature)
            raw[i] ^= 0x01
            bad = {**document, "signature": {**document["signature"], "value": b64(bytes(raw))}}
            answer = await client.post("/api/v1/licence-verifications", json=bad)
            assert answer.json()["result"] == "invalid", i

    async def test_tampered_row_fails_verification_by_token(
        self,
        issued: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        auth: Any,
    ) -> None:
        me = await held(client, auth, issued)
        async with sessionmaker() as session, session.begin():
            row = await session.get(ELicenceRecord, issued.licence.identifier)
            assert row is not None and row.signed_payload is not None
            original = row.signed_payload
            row.signed_payload = original.replace("张三", "李四")
        assert (await verify(client, me["verification_token"]))["result"] == "invalid"
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(ELicenceRecord)
                .where(ELicenceRecord.identifier == issued.licence.identifier)
                .values(signed_payload=original, signature_value=b64(bytes(64)))
            )
        assert (await verify(client, me["verification_token"]))["result"] == "invalid"

    async def test_what_is_shown_comes_from_the_signed_document_not_the_columns(
        self,
        issued: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        auth: Any,
    ) -> None:
        me = await held(client, auth, issued)
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(ELicenceRecord)
                .where(ELicenceRecord.identifier == issued.licence.identifier)
                .values(holder_name="李四", type_name="伪造证照")
            )
        body = await verify(client, me["verification_token"])
        assert (
            body["result"] == "valid"
            and body["holder_name"] == "张*"
            and body["type_name"] == "建筑工程施工许可证"
        )


class TestStatus:
    async def change(
        self, client: httpx.AsyncClient, auth: Any, story: Any, status: str, **who: Any
    ) -> httpx.Response:
        headers = auth("pz-1", staff=True, role=who.get("role", "approver"), org=who.get("org"))
        return await client.post(
            f"/api/v1/licences/{story.licence.identifier}/status",
            json={"status": status, "reason": "依法处理"},
            headers=headers,
        )

    async def test_suspend_reinstate_revoke_are_reflected_at_once(
        self,
        issued: Any,
        client: httpx.AsyncClient,
        auth: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        token = (await held(client, auth, issued))["verification_token"]
        assert (await self.change(client, auth, issued, "suspended")).json()["status"] == "suspended"
        assert (await verify(client, token))["result"] == "suspended"
        assert (await self.change(client, auth, issued, "valid")).status_code == 200
        assert (await verify(client, token))["result"] == "valid"
        revoked = await self.change(client, auth, issued, "revoked")
        assert revoked.status_code == 200
        body = await verify(client, token)
        assert body["result"] == "revoked" and body["result_text"] == "证照已撤销"
        again = await self.change(client, auth, issued, "valid")
        assert again.status_code == 409 and again.json()["code"] == "licence_revoked"
        assert (await verify(client, token))["result"] == "revoked"
        events = await outbox_events(
            sessionmaker, messaging.outbox, "yiwang.datasharing.licence.status_changed.v1"
        )
        mine = [e["data"] for _, e in events if e["subject"] == issued.case_no]
        assert [(d["previous_status"], d["status"]) for d in mine] == [
            ("valid", "suspended"),
            ("suspended", "valid"),
            ("valid", "revoked"),
        ]

    async def test_only_the_issuing_units_approver_or_admin_may_change_it(
        self, issued: Any, client: httpx.AsyncClient, auth: Any
    ) -> None:
        other = await self.change(client, auth, issued, "revoked", org="11530428MB1234567X")
        assert other.status_code == 404
        acceptor = await self.change(client, auth, issued, "revoked", role="acceptor")
        assert acceptor.status_code == 403
        holder = await client.post(
            f"/api/v1/licences/{issued.licence.identifier}/status",
            json={"status": "revoked", "reason": "x"},
            headers=auth(issued.applicant_id),
        )
        assert holder.status_code == 404
        token = (await held(client, auth, issued))["verification_token"]
        assert (await verify(client, token))["result"] == "valid"

    async def test_a_licence_past_its_last_day_is_expired(
        self, deliver: Any, story: Any, client: httpx.AsyncClient, auth: Any
    ) -> None:
        story.licence = story.licence.model_copy(
            update={"valid_from": date(2024, 1, 1), "valid_until": date(2025, 12, 31)}
        )
        await deliver(story.submitted(), 0)
        await deliver(story.decided(), 3)
        me = await held(client, auth, story)
        assert me["status"] == "expired"
        body = await verify(client, me["verification_token"])
        assert body["result"] == "expired" and body["valid_until"] == "2025-12-31"


class TestKeyRotation:
    async def test_rotation_signs_new_licences_with_the_new_key_and_old_ones_still_verify(
        self, deliver: Any, story: Any, client: httpx.AsyncClient, auth: Any
    ) -> None:
        await deliver(story.submitted(), 0)
        await deliver(story.decided(), 3)
        old = await held(client, auth, story)
        refused = await client.post(
            f"/api/v1/licence-keys/{ORG_CODE}/rotation", headers=auth("a-1", staff=True, role="approver")
        )
        assert refused.status_code == 403
        rotated = await client.post(
            f"/api/v1/licence-keys/{ORG_CODE}/rotation", headers=auth("a-1", staff=True, role="admin")
        )
        assert rotated.status_code == 200
        new_kid = rotated.json()["kid"]
        assert new_kid != old["signature_kid"]
        later = type(story)()
        await deliver(later.submitted(), 0)
        await deliver(later.decided(), 3)
        new = await held(client, auth, later)
        assert new["signature_kid"] == new_kid
        assert (await verify(client, old["verification_token"]))["result"] == "valid"
        assert (await verify(client, new["verification_token"]))["result"] == "valid"
        retired = (await client.get(f"/api/v1/licence-keys/{old['signature_kid']}")).json()
        assert retired["retired_at"] is not None

    async def test_a_rotation_on_another_replica_is_seen_by_the_next_licence(
        self,
        settings: Any,
        make_deliver: Any,
        story: Any,
        client: httpx.AsyncClient,
        auth: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # Two replicas with their own memory of the key in use; one of them rotates.
        mine, other = LicenceSigner.from_settings(settings), LicenceSigner.from_settings(settings)
        deliver = make_deliver(mine)
        await deliver(story.submitted(), 0)
        await deliver(story.decided(), 3)
        old_kid = (await held(client, auth, story))["signature_kid"]
        async with session_scope(sessionmaker) as session:
            new_kid = await other.rotate(session, ORG_CODE, utcnow())
        assert new_kid != old_kid
        later = type(story)()
        await deliver(later.submitted(), 0)
        await deliver(later.decided(), 3)
        new = await held(client, auth, later)
        assert new["signature_kid"] == new_kid
        assert (await verify(client, new["verification_token"]))["result"] == "valid"
        async with sessionmaker() as session:
            rows = (
                await session.execute(
                    select(ELicenceRecord.signature_kid).where(
                        ELicenceRecord.signature_kid == old_kid,
                        ELicenceRecord.registered_at > (await session.get(SigningKey, old_kid)).retired_at,  # type: ignore[union-attr]
                    )
                )
            ).all()
        assert rows == []

    async def test_another_units_admin_cannot_rotate(self, client: httpx.AsyncClient, auth: Any) -> None:
        response = await client.post(
            f"/api/v1/licence-keys/{ORG_CODE}/rotation",
            headers=auth("a-2", staff=True, role="admin", org="11530428MB1234567X"),
        )
        assert response.status_code == 403


class TestSm2Option:
    async def test_sm2_signed_licence_verifies_next_to_ed25519_ones(
        self, story: Any, settings: Any, make_deliver: Any, deliver: Any, client: httpx.AsyncClient, auth: Any
    ) -> None:
        sm2_settings = settings.model_copy(update={"licence_signature_algorithm": "sm2"})
        sm2_deliver = make_deliver(LicenceSigner.from_settings(sm2_settings))
        await sm2_deliver(story.submitted(), 0)
        await sm2_deliver(story.decided(), 3)
        me = await held(client, auth, story)
        assert me["signature_alg"] == "SM2-SM3" and "-sm2-" in me["signature_kid"]
        # The app's own signer (Ed25519 by default) verifies it: the key id names the algorithm.
        assert (await verify(client, me["verification_token"]))["result"] == "valid"
        document = (
            await client.get(
                f"/api/v1/licences/{story.licence.identifier}/document", headers=auth(story.applicant_id)
            )
        ).json()
        assert (await client.post("/api/v1/licence-verifications", json=document)).json()["result"] == "valid"
        signature = unb64(document["signature"]["value"])
        bad = {
            **document,
            "signature": {**document["signature"], "value": b64(signature[:-1] + bytes([signature[-1] ^ 1]))},
        }
        assert (await client.post("/api/v1/licence-verifications", json=bad)).json()["result"] == "invalid"
        tampered = {**document, "payload": document["payload"].replace("张三", "张四")}
        assert (await client.post("/api/v1/licence-verifications", json=tampered)).json()[
            "result"
        ] == "invalid"


class TestCatalogueAndHolder:
    async def test_a_new_type_enters_the_catalogue_and_an_admin_completes_it(
        self,
        issued: Any,
        client: httpx.AsyncClient,
        auth: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        code = issued.licence.type_code
        entry = (await client.get(f"/api/v1/licence-types/{code}")).json()
        assert entry["name"] == "建筑工程施工许可证" and entry["defining_org"]["code"] == code[:18]
        body = {
            "name": "建筑工程施工许可证",
            "defining_org": {"name": "住房和城乡建设部", "code": "11100000000013338W"},
            "defining_level": "国家级",
            "issuing_level": "区县级",
            "holder_category": "法人",
            "data_items": [{"key": "project_name", "name": "工程名称"}],
        }
        refused = await client.put(f"/api/v1/licence-types/{code}", json=body, headers=auth("s", staff=True))
        assert refused.status_code == 403
        put = await client.put(
            f"/api/v1/licence-types/{code}", json=body, headers=auth("s", staff=True, role="admin")
        )
        assert put.status_code == 200 and put.json()["issuing_level"] == "区县级"
        listed = (await client.get("/api/v1/licence-types", params={"limit": 100})).json()
        assert any(t["code"] == code and t["defining_level"] == "国家级" for t in listed["items"])
        async with sessionmaker() as session:
            row = (await session.execute(select(LicenceType).where(LicenceType.code == code))).scalar_one()
        assert row.data_items == [{"key": "project_name", "name": "工程名称", "required": True}]

    async def test_my_licences_are_the_holders_only(
        self, issued: Any, client: httpx.AsyncClient, auth: Any
    ) -> None:
        mine = (await client.get("/api/v1/licences", headers=auth(issued.applicant_id))).json()
        assert [h["identifier"] for h in mine] == [issued.licence.identifier]
        assert mine[0]["document_sha256"] and mine[0]["document_size"] > 0
        assert (await client.get("/api/v1/licences", headers=auth("someone-else"))).json() == []
        assert (await client.get("/api/v1/licences", headers=auth("s-1", staff=True))).json() == []
        assert (await client.get("/api/v1/licences")).status_code == 401

    async def test_settings_kek_must_be_32_bytes(self, settings: Any) -> None:
        bad = settings.model_copy(
            update={"licence_key_secret": SecretStr(base64.b64encode(b"short").decode())}
        )
        with pytest.raises(ValueError):
            LicenceSigner.from_settings(bad)
