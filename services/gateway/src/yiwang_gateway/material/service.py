"""Business rules of materials: checking what an application or supplement references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.common import MaterialRef, MaterialRequirement
from yiwang_gateway.material.errors import (
    MaterialNotUploaded,
    MaterialTooLarge,
    MaterialTypeNotAllowed,
    MaterialUnknown,
)
from yiwang_gateway.material.repository import MaterialRepository
from yiwang_gateway.material.schemas import MaterialSelection, MaterialUploaded


class MaterialService:
    """申请材料 use cases."""

    async def record_upload(
        self, session: AsyncSession, *, owner_id: str, uploaded: MaterialUploaded
    ) -> None:
        await MaterialRepository.from_session(session).record(owner_id=owner_id, uploaded=uploaded)

    async def resolve(
        self,
        session: AsyncSession,
        *,
        owner_id: str,
        requirements: Sequence[dict[str, Any]],
        selections: Sequence[MaterialSelection],
    ) -> list[MaterialRef]:
        """Turn selections into MaterialRefs, checking each against the item's list and the owner's uploads.

        Several files for one material code are allowed (e.g. a multi-page 施工合同).
        """
        listed = {r["code"]: MaterialRequirement.model_validate(r) for r in requirements}
        unknown = sorted({s.material_code for s in selections} - listed.keys())
        if unknown:
            raise MaterialUnknown(f"材料编码不在申请材料目录中: {', '.join(unknown)}", material_codes=unknown)
        uploads = await MaterialRepository.from_session(session).find_owned(
            owner_id=owner_id, sha256s={s.sha256 for s in selections}
        )
        missing = sorted({s.sha256 for s in selections} - uploads.keys())
        if missing:
            raise MaterialNotUploaded("引用的文件尚未由本人上传", sha256s=missing)
        refs = []
        for s in selections:
            req, up = listed[s.material_code], uploads[s.sha256]
            if up.media_type not in req.media_types:
                raise MaterialTypeNotAllowed(
                    f"{req.name} 仅接受 {', '.join(req.media_types)}，收到 {up.media_type}",
                    material_code=req.code,
                )
            if up.size > req.max_bytes:
                raise MaterialTooLarge(f"{req.name} 不得超过 {req.max_bytes} 字节", material_code=req.code)
            refs.append(
                MaterialRef(
                    material_code=req.code,
                    name=req.name,
                    sha256=up.sha256,
                    size=up.size,
                    media_type=up.media_type,
                    filename=up.filename,
                )
            )
        return refs


material_service = MaterialService()
