from __future__ import annotations

import segno


def svg_data_uri(content: str, *, scale: int = 5) -> str:
    """A QR code of ``content`` as an inline SVG data URI (served by the page itself)."""
    return str(segno.make(content, error="m").svg_data_uri(scale=scale))
