"""QR codes (segno): PNG for documents, inline SVG for pages.

Kept apart from ``yiwang_common.documents`` so that a service that only shows QR codes (the
portal) does not import fpdf2 at start-up.
"""

from __future__ import annotations

import io

import segno


def qr_png(data: str, *, scale: int = 8) -> bytes:
    """A QR code as PNG bytes (error correction M, quiet zone of 4 modules)."""
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(data: str, *, scale: int = 4) -> str:
    """A QR code as inline SVG markup (no data: URI, so a strict CSP allows it)."""
    svg: str = segno.make(data, error="m", micro=False).svg_inline(scale=scale, border=4)
    return svg
