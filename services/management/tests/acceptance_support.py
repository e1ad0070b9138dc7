"""Helpers of the acceptance tests: items with intake rules, PDF text and QR codes."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import zxingcpp
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope
from yiwang_management.db import messaging
from yiwang_management.demo_items import demo_items
from yiwang_management.item.service import publish_item

PROGRESS = "http://127.0.0.1:8000/progress/"


async def publish_variant(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    case_type: str = "2",
    guide: dict[str, Any] | None = None,
    deferrable: tuple[str, ...] = (),
) -> str:
    """Publish the construction permit as version 2 with intake rules; its outbox row is cleared."""
    base = demo_items()[0]
    materials = [
        m.model_copy(update={"deferrable": True}) if m.code in deferrable else m for m in base.materials
    ]
    item = base.model_copy(
        update={
            "version": 2,
            "case_type": case_type,
            "guide": base.guide | (guide or {}),
            "materials": materials,
        }
    )
    async with session_scope(sessionmaker) as session:
        await publish_item(session, item, source="urn:yiwang:530428:management")
    async with session_scope(sessionmaker) as session:
        await session.execute(messaging.outbox.delete())
    return item.item_code


def pdf_text(pdf: bytes) -> str:
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return text.replace(" ", "").replace("\n", "")


def qr_codes(pdf: bytes) -> list[str]:
    found: list[str] = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            picture = Image.open(io.BytesIO(image.data)).convert("L")
            found += [code.text for code in zxingcpp.read_barcodes(picture)]
    return found


def embedded_fonts(pdf: bytes) -> list[str]:
    """Names of the fonts embedded in the PDF (FontFile2 present)."""
    names = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    names.append(str(descriptor["/FontName"]))
    return names
