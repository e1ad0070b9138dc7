"""POST/GET /api/v1/materials: content-addressed upload, idempotency, limits and visibility."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from yiwang_datasharing.config import Settings
from yiwang_datasharing.material.models import Material, MaterialOwner

URL = "/api/v1/materials"


def pdf() -> bytes:
    """A small PDF with unique content, so each test stores a new material."""
    return b"%PDF-1.7\n" + uuid.uuid4().bytes + b"\n%%EOF\n"


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes


Auth = Callable[..., dict[str, str]]


@pytest.fixture
def upload(client: httpx.AsyncClient, auth: Auth) -> Callable[..., Any]:
    async def post(
        content: bytes, *, who: str, name: str = "申请表.pdf", ctype: str = "application/pdf"
    ) -> httpx.Response:
        return await client.post(URL, files={"file": (name, content, ctype)}, headers=auth(who))

    return post


class TestUploadMaterial:
    async def test_first_upload_is_201_and_stores_blob_at_content_address(
        self, upload: Any, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        content = pdf()
        response = await upload(content, who="u-a")
        sha = hashlib.sha256(content).hexdigest()
        assert response.status_code == 201
        assert response.json() == {
            "sha256": sha,
            "size": len(content),
            "media_type": "application/pdf",
            "filename": "申请表.pdf",
        }
        assert (settings.blob_path / sha[:2] / sha[2:4] / sha).read_bytes() == content

    async def test_same_content_again_is_200_with_same_body(
        self, upload: Any, client: httpx.AsyncClient, rows: Any
    ) -> None:
        content = pdf()
        first = await upload(content, who="u-b")
        again = await upload(content, who="u-b", name="renamed.pdf")
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert await rows.count(MaterialOwner, MaterialOwner.sha256 == first.json()["sha256"]) == 1

    async def test_same_content_from_another_owner_is_201_with_their_filename(
        self, upload: Any, client: httpx.AsyncClient
    ) -> None:
        content = pdf()
        await upload(content, who="u-c", name="mine.pdf")
        other = await upload(content, who="u-d", name="theirs.pdf")
        assert other.status_code == 201
        assert other.json()["filename"] == "theirs.pdf"

    async def test_octet_stream_declared_type_is_detected_from_magic_bytes(
        self, upload: Any, client: httpx.AsyncClient
    ) -> None:
        response = await upload(png(), who="u-e", name="photo", ctype="application/octet-stream")
        assert response.status_code == 201
        assert response.json()["media_type"] == "image/png"

    async def test_path_in_filename_is_stripped(self, upload: Any, client: httpx.AsyncClient) -> None:
        response = await upload(pdf(), who="u-f", name="../../etc/passwd.pdf")
        assert response.json()["filename"] == "passwd.pdf"

    async def test_without_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(URL, files={"file": ("a.pdf", pdf(), "application/pdf")})
        assert response.status_code == 401


class TestUploadRefusals:
    """Every refused upload is a 4xx problem and stores nothing."""

    @pytest.fixture(autouse=True)
    async def _nothing_changes(self, rows: Any) -> AsyncIterator[None]:
        before = (await rows.count(Material), await rows.count(MaterialOwner))
        yield
        assert (await rows.count(Material), await rows.count(MaterialOwner)) == before

    async def test_too_large_with_content_length_is_413(
        self, upload: Any, client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "max_material_bytes", 1024)
        response = await upload(b"%PDF-" + b"x" * 200_000, who="u-g")
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"

    async def test_too_large_streamed_without_length_stops_at_cap(
        self, auth: Auth, client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "max_material_bytes", 1024)
        sent = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-'
            for _ in range(1000):
                sent += 1
                yield b"x" * 4096

        headers = {"Content-Type": "multipart/form-data; boundary=b", **auth("u-h")}
        response = await client.post(URL, content=body(), headers=headers)
        assert response.status_code == 413
        assert sent < 10

    async def test_empty_file_is_422(self, upload: Any, client: httpx.AsyncClient) -> None:
        response = await upload(b"", who="u-i")
        assert response.status_code == 422
        assert response.json()["code"] == "empty_material"

    async def test_unknown_type_is_415(self, upload: Any, client: httpx.AsyncClient) -> None:
        response = await upload(b"hello, plain text", who="u-j", name="a.txt", ctype="text/plain")
        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_media_type"

    async def test_declared_type_contradicting_content_is_415(
        self, upload: Any, client: httpx.AsyncClient
    ) -> None:
        response = await upload(png(), who="u-k", name="a.pdf", ctype="application/pdf")
        assert response.status_code == 415

    async def test_type_outside_allowed_list_is_415(
        self, upload: Any, client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "allowed_media_types", ["application/pdf"])
        response = await upload(png(), who="u-l", name="a.png", ctype="image/png")
        assert response.status_code == 415

    async def test_missing_file_field_is_422(self, auth: Auth, client: httpx.AsyncClient) -> None:
        response = await client.post(
            URL, files={"other": ("a.pdf", pdf(), "application/pdf")}, headers=auth("u-m")
        )
        assert response.status_code == 422
        assert response.json()["code"] == "malformed_upload"

    async def test_json_body_is_422(self, auth: Auth, client: httpx.AsyncClient) -> None:
        response = await client.post(URL, json={"file": "x"}, headers=auth("u-n"))
        assert response.status_code == 422

    async def test_truncated_multipart_is_422(self, auth: Auth, client: httpx.AsyncClient) -> None:
        body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.7 partial'
        headers = {"Content-Type": "multipart/form-data; boundary=b", **auth("u-o")}
        response = await client.post(URL, content=body, headers=headers)
        assert response.status_code == 422


class TestReadMaterial:
    @pytest.fixture
    async def stored(self, upload: Any, client: httpx.AsyncClient) -> tuple[str, bytes]:
        content = pdf()
        response = await upload(content, who="owner-1", name="许可申请.pdf")
        return response.json()["sha256"], content

    async def test_owner_downloads_bytes_with_content_type(
        self, auth: Auth, client: httpx.AsyncClient, stored: tuple[str, bytes]
    ) -> None:
        sha, content = stored
        response = await client.get(f"{URL}/{sha}", headers=auth("owner-1"))
        assert response.status_code == 200
        assert response.content == content
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-length"] == str(len(content))

    async def test_staff_of_the_unit_downloads_a_material_of_its_case(
        self, auth: Auth, client: httpx.AsyncClient, stored: tuple[str, bytes], deliver: Any, story: Any
    ) -> None:
        sha, content = stored
        ref = {
            "material_code": "M01",
            "name": "申请表",
            "sha256": sha,
            "size": len(content),
            "media_type": "application/pdf",
        }
        await deliver(story.submitted(materials=[ref]), 0)
        response = await client.get(f"{URL}/{sha}", headers=auth("staff-9", staff=True))
        assert response.status_code == 200
        assert response.content == content

    async def test_staff_get_404_for_a_material_no_case_of_theirs_lists(
        self, auth: Auth, client: httpx.AsyncClient, stored: tuple[str, bytes]
    ) -> None:
        sha, _ = stored
        for path in (f"{URL}/{sha}", f"{URL}/{sha}/meta"):
            response = await client.get(path, headers=auth("staff-9", staff=True))
            assert response.status_code == 404
            assert response.json()["code"] == "material_not_found"

    async def test_another_user_gets_404_for_bytes_and_meta(
        self, auth: Auth, client: httpx.AsyncClient, stored: tuple[str, bytes]
    ) -> None:
        sha, _ = stored
        for path in (f"{URL}/{sha}", f"{URL}/{sha}/meta"):
            response = await client.get(path, headers=auth("someone-else"))
            assert response.status_code == 404
            assert response.json()["code"] == "material_not_found"

    async def test_owner_reads_meta(
        self, auth: Auth, client: httpx.AsyncClient, stored: tuple[str, bytes]
    ) -> None:
        sha, content = stored
        response = await client.get(f"{URL}/{sha}/meta", headers=auth("owner-1"))
        assert response.json() == {
            "sha256": sha,
            "size": len(content),
            "media_type": "application/pdf",
            "filename": "许可申请.pdf",
        }

    async def test_staff_reads_meta(
        self, auth: Auth, client: httpx.AsyncClient, stored: tuple[str, bytes], deliver: Any, story: Any
    ) -> None:
        sha, content = stored
        ref = {
            "material_code": "M01",
            "name": "申请表",
            "sha256": sha,
            "size": len(content),
            "media_type": "application/pdf",
        }
        await deliver(story.accepted(materials=[ref]), 2)
        response = await client.get(f"{URL}/{sha}/meta", headers=auth("staff-9", staff=True))
        assert response.status_code == 200

    async def test_unknown_sha_is_404(self, auth: Auth, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{URL}/{'0' * 64}/meta", headers=auth("staff-9", staff=True))
        assert response.status_code == 404

    @pytest.mark.parametrize("bad", ["abc", "G" * 64, "A" * 64, "0" * 65])
    async def test_invalid_sha_is_422(self, auth: Auth, client: httpx.AsyncClient, bad: str) -> None:
        response = await client.get(f"{URL}/{bad}", headers=auth("owner-1"))
        assert response.status_code == 422

    async def test_without_token_is_401(self, client: httpx.AsyncClient, stored: tuple[str, bytes]) -> None:
        response = await client.get(f"{URL}/{stored[0]}")
        assert response.status_code == 401


def _multipart(filename: bytes, content: bytes) -> tuple[bytes, str]:
    # Built by hand: client libraries escape or refuse the very bytes these tests must send.
    boundary = "yiwangboundary"
    body = (
        b"--yiwangboundary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + content + b"\r\n--yiwangboundary--\r\n"
    )
    return body, f"multipart/form-data; boundary={boundary}"


class TestUploadFilename:
    @pytest.mark.parametrize(
        "filename",
        [
            "申请\x00表.pdf".encode(),
            "申请\x1b[2J.pdf".encode(),
            b"a\x7f.pdf",
            b"\xed\xa0\x80.pdf",
            b"\xff.pdf",
        ],
    )
    async def test_forbidden_characters_in_the_filename_are_422_and_store_nothing(
        self, client: httpx.AsyncClient, auth: Auth, rows: Any, filename: bytes
    ) -> None:
        content = pdf()
        body, ctype = _multipart(filename, content)
        response = await client.post(URL, content=body, headers=auth("u-f") | {"content-type": ctype})
        assert (response.status_code, response.json()["code"]) == (422, "filename_invalid"), response.text
        assert await rows.count(Material, Material.sha256 == hashlib.sha256(content).hexdigest()) == 0

    async def test_bidi_controls_are_removed_from_the_stored_filename(
        self, client: httpx.AsyncClient, auth: Auth
    ) -> None:
        content = pdf()
        body, ctype = _multipart("申请表\u202efdp.exe\u2066\u200f".encode(), content)
        response = await client.post(URL, content=body, headers=auth("u-f") | {"content-type": ctype})
        assert response.status_code == 201, response.text
        assert response.json()["filename"] == "申请表fdp.exe"
        meta = await client.get(f"{URL}/{response.json()['sha256']}/meta", headers=auth("u-f"))
        assert meta.json()["filename"] == "申请表fdp.exe"
