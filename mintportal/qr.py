"""QR codes of links (journey URLs, a workflow's start link) for pages to show beside the link itself."""

from __future__ import annotations

import segno


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI for an ``<img>`` (the CSP allows data: images); empty for no url."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#0f172a") if url else ""
