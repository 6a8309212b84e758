from __future__ import annotations

import io

import segno


def svg_data_uri(content: str, *, scale: int = 5) -> str:
    """A QR code of ``content`` as an inline SVG data URI (served by the page itself)."""
    return str(segno.make(content, error="m").svg_data_uri(scale=scale))


def svg_bytes(content: str, *, scale: int = 10, title: str = "") -> bytes:
    """A QR code of ``content`` as a standalone SVG document, for printing."""
    buffer = io.BytesIO()
    segno.make(content, error="m").save(buffer, kind="svg", scale=scale, title=title or None)
    return buffer.getvalue()


def png_bytes(content: str, *, scale: int = 12) -> bytes:
    buffer = io.BytesIO()
    segno.make(content, error="m").save(buffer, kind="png", scale=scale)
    return buffer.getvalue()


def svg_inline(content: str, *, scale: int = 5) -> str:
    """A QR code as an ``<svg>`` element to place in a page; it scales with its CSS width."""
    buffer = io.BytesIO()
    segno.make(content, error="m").save(
        buffer, kind="svg", scale=scale, xmldecl=False, svgclass="qr", lineclass=None, omitsize=True
    )
    return buffer.getvalue().decode()
