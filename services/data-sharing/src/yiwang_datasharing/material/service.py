"""Business rules of the material domain: what may be stored and who may read it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import region_of
from yiwang_common.auth import Principal
from yiwang_datasharing.access import is_staff, scope_of
from yiwang_datasharing.audit import service as audit_service
from yiwang_datasharing.case_record.repository import CaseRecordRepository
from yiwang_datasharing.material.blobstore import BlobStore
from yiwang_datasharing.material.errors import MaterialNotFound, UnsupportedMaterialType
from yiwang_datasharing.material.repository import MaterialRepository
from yiwang_datasharing.material.schemas import MaterialSchema
from yiwang_datasharing.material.upload import Upload

MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    # OFD (GB/T 33190) is a ZIP container; its magic is the ZIP local-file header.
    (b"PK\x03\x04", "application/ofd"),
)
#: Every media type a stored material can have: what the magic bytes can detect.
STORABLE_TYPES: tuple[str, ...] = tuple(dict.fromkeys(media for _, media in MAGIC))
# Declared types that name the same format as a detected one.
ALIASES: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({"application/pdf", "application/x-pdf"}),
    "image/png": frozenset({"image/png"}),
    "image/jpeg": frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}),
    "application/ofd": frozenset({"application/ofd", "application/x-ofd", "application/zip"}),
}
# What clients send when they do not know the type; it declares nothing.
UNDECLARED = frozenset({"application/octet-stream"})


def detect_media_type(data: bytes) -> str | None:
    """Return the media type the magic bytes name, or None."""
    return next((media for magic, media in MAGIC if data.startswith(magic)), None)


def checked_media_type(upload: Upload, allowed: list[str]) -> str:
    """Return the detected type if it is allowed and agrees with the declared one."""
    detected = detect_media_type(upload.data)
    if detected is None or detected not in allowed:
        raise UnsupportedMaterialType("仅接受 PDF、PNG、JPEG、OFD 格式的材料")
    declared = upload.declared_type
    if declared and declared not in UNDECLARED and declared not in ALIASES.get(detected, {detected}):
        raise UnsupportedMaterialType(f"声明的类型 {declared} 与文件内容 ({detected}) 不符")
    return detected


class MaterialService:
    """Stores materials once per content and tracks who handed each in."""

    async def store(
        self, session: AsyncSession, *, upload: Upload, owner_id: str, allowed: list[str], blobs: BlobStore
    ) -> tuple[MaterialSchema, bool]:
        """Store an upload for ``owner_id``; tell whether it is new for that owner."""
        media_type = checked_media_type(upload, allowed)
        await blobs.put(upload.sha256, upload.data)
        repository = MaterialRepository.from_session(session)
        await repository.add_material(sha256=upload.sha256, size=len(upload.data), media_type=media_type)
        created = await repository.add_owner(
            sha256=upload.sha256, owner_id=owner_id, filename=upload.filename
        )
        filename = upload.filename
        if not created:
            # The same body every time: the file name of the first upload stays.
            found = await repository.get_for_owner(sha256=upload.sha256, owner_id=owner_id)
            filename = found[1] if found else None
        schema = MaterialSchema(
            sha256=upload.sha256, size=len(upload.data), media_type=media_type, filename=filename
        )
        return schema, created

    async def get_visible(
        self, session: AsyncSession, *, sha256: str, principal: Principal, reason: str | None = None
    ) -> MaterialSchema:
        """The material for its uploader, or for staff who may read a case that lists it.

        Anyone else is told it does not exist, the same answer as for an unknown address.
        """
        repository = MaterialRepository.from_session(session)
        found = await repository.get_for_owner(sha256=sha256, owner_id=principal.sub)
        if found is None and is_staff(principal):
            scope = scope_of(principal, reason=reason)
            if await CaseRecordRepository.from_session(session).references_material(sha256, scope):
                found = await repository.get_any(sha256=sha256)
                await audit_service.record_read(
                    session,
                    principal=principal,
                    target_type="material",
                    target_id=sha256,
                    region_code=region_of(principal) or "000000",
                    reason=reason,
                )
        if found is None:
            raise MaterialNotFound(f"材料 {sha256} 不存在")
        material, filename = found
        return MaterialSchema(
            sha256=material.sha256, size=material.size, media_type=material.media_type, filename=filename
        )


material_service = MaterialService()
