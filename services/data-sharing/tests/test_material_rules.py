"""Pure rules of the material domain: type sniffing, declared-type consistency, file names."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from yiwang_datasharing.material.errors import FilenameInvalid, UnsupportedMaterialType
from yiwang_datasharing.material.service import checked_media_type, detect_media_type
from yiwang_datasharing.material.upload import Upload, clean_filename

ALLOWED = ["application/pdf", "image/png", "image/jpeg", "application/ofd"]


def upload(data: bytes, declared: str | None) -> Upload:
    return Upload(data=data, sha256="0" * 64, filename=None, declared_type=declared)


class TestDetectMediaType:
    @pytest.mark.parametrize(
        ("head", "expected"),
        [
            (b"%PDF-1.4", "application/pdf"),
            (b"\x89PNG\r\n\x1a\n....", "image/png"),
            (b"\xff\xd8\xff\xe0", "image/jpeg"),
            (b"PK\x03\x04OFD.xml", "application/ofd"),
            (b"GIF89a", None),
            (b"%PD", None),
        ],
    )
    def test_magic_bytes_name_the_type(self, head: bytes, expected: str | None) -> None:
        assert detect_media_type(head) == expected


class TestCheckedMediaType:
    def test_no_declared_type_accepts_detected(self) -> None:
        assert checked_media_type(upload(b"\xff\xd8\xff\xe0", None), ALLOWED) == "image/jpeg"

    def test_alias_of_detected_type_is_accepted(self) -> None:
        assert checked_media_type(upload(b"\xff\xd8\xff\xe0", "image/jpg"), ALLOWED) == "image/jpeg"

    def test_contradicting_declared_type_is_refused(self) -> None:
        with pytest.raises(UnsupportedMaterialType):
            checked_media_type(upload(b"%PDF-1.4", "image/png"), ALLOWED)


class TestCleanFilename:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("申请表.pdf", "申请表.pdf"),
            ("C:\\Users\\张三\\证明.pdf", "证明.pdf"),
            ("   ", None),
            ("x" * 300, "x" * 255),
            # Trojan Source: shown as "申请表exe.pdf" reversed; the controls go, the name stays honest.
            ("申请表\u202efdp.exe", "申请表fdp.exe"),
            ("a\u2066b\u2069\u200e\u200f\u061c.pdf", "ab.pdf"),
        ],
    )
    def test_keeps_a_safe_last_component(self, raw: str, expected: str | None) -> None:
        assert clean_filename(raw.encode()) == expected

    @pytest.mark.parametrize("raw", [b"a\x00b.pdf", b"a\x1bb.pdf", b"\xff\xfe.pdf", "a\x85.pdf".encode()])
    def test_control_characters_and_bad_utf8_are_refused(self, raw: bytes) -> None:
        with pytest.raises(FilenameInvalid):
            clean_filename(raw)


class TestOpenApi:
    def test_upload_documents_multipart_file_field(self, app: FastAPI) -> None:
        body = app.openapi()["paths"]["/api/v1/materials"]["post"]["requestBody"]
        assert body["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
