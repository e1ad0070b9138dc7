"""Streaming multipart reader that never holds more than the size cap of one ``file`` part.

Starlette's form parser spools file parts of any size to disk before the endpoint runs,
so an unbounded body would be read to its end. This reader stops at the cap instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from yiwang_common.text import clean_filename as _clean_text_filename
from yiwang_datasharing.material.errors import (
    EmptyMaterial,
    FilenameInvalid,
    MalformedUpload,
    MaterialTooLarge,
)

FIELD_NAME = "file"
# Room for the boundaries, part headers and small extra fields around the file part.
ENVELOPE_ALLOWANCE = 64 * 1024


@dataclass
class Upload:
    """The ``file`` part of an upload, fully read and hashed."""

    data: bytes
    sha256: str
    filename: str | None
    declared_type: str | None


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: bytes = b""
    value: bytes = b""
    capturing: bool = False


class _FileCollector:
    """Callbacks for ``MultipartParser`` that keep the first ``file`` part, up to ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.buffer = bytearray()
        self.digest = hashlib.sha256()
        self.part = _Part()
        self.found = False
        self.complete = False
        self.filename: str | None = None
        self.declared_type: str | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.part.name.strip().lower()] = self.part.value.strip()
        self.part.name = self.part.value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if self.found or options.get(b"name") != FIELD_NAME.encode() or b"filename" not in options:
            return
        self.found = self.part.capturing = True
        self.filename = clean_filename(options[b"filename"])
        declared = self.part.headers.get(b"content-type")
        if declared:
            self.declared_type = declared.decode("latin-1").split(";", 1)[0].strip().lower() or None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.part.capturing:
            return
        chunk = data[start:end]
        if len(self.buffer) + len(chunk) > self.max_bytes:
            raise MaterialTooLarge(f"材料不得超过 {self.max_bytes} 字节")
        self.buffer += chunk
        self.digest.update(chunk)

    def on_part_end(self) -> None:
        # A truncated body never ends its part; without this a partial file would be stored.
        if self.part.capturing:
            self.complete = True


def clean_filename(raw: bytes) -> str | None:
    """Keep the last path component without bidi controls; refuse control characters and non-UTF-8."""
    try:
        return _clean_text_filename(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FilenameInvalid("文件名不是有效的 UTF-8") from exc
    except ValueError as exc:
        raise FilenameInvalid(str(exc)) from exc


def boundary_of(content_type: str | None) -> bytes:
    """Return the multipart boundary of a request, or refuse the request."""
    ctype, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise MalformedUpload("请以 multipart/form-data 上传, 字段名为 file")
    return boundary


async def read_upload(
    stream: AsyncIterator[bytes], *, content_type: str | None, content_length: str | None, max_bytes: int
) -> Upload:
    """Read the ``file`` part of a multipart body, stopping as soon as it passes ``max_bytes``."""
    boundary = boundary_of(content_type)
    limit = max_bytes + ENVELOPE_ALLOWANCE
    if content_length and content_length.isdigit() and int(content_length) > limit:
        raise MaterialTooLarge(f"材料不得超过 {max_bytes} 字节")
    collector = _FileCollector(max_bytes)
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in stream:
            received += len(chunk)
            if received > limit:
                raise MaterialTooLarge(f"材料不得超过 {max_bytes} 字节")
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise MalformedUpload("multipart 请求体格式错误") from exc
    if not collector.found:
        raise MalformedUpload("缺少文件字段 file")
    if not collector.complete:
        raise MalformedUpload("multipart 请求体不完整")
    if not collector.buffer:
        raise EmptyMaterial("上传的材料没有内容")
    return Upload(
        bytes(collector.buffer), collector.digest.hexdigest(), collector.filename, collector.declared_type
    )
