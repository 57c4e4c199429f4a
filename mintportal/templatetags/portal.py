"""Template filters for the portal's pages: relative times, durations, alert levels and JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from mintportal.lifetimes import lifetime_words
from mintportal.qr import qr_data_uri

register = template.Library()

_ALERT_NAMES = {0: "none", 1: "info", 2: "warning", 3: "critical"}


def _span(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def ago(value: datetime | None) -> str:
    """``3 h 5 min ago`` (or ``in 2 min`` for a time ahead); empty for None."""
    if not value:
        return ""
    delta = (timezone.now() - value).total_seconds()
    return f"{_span(delta)} ago" if delta >= 0 else f"in {_span(-delta)}"


@register.filter
def duration(seconds: float | int | timedelta | None) -> str:
    """A number of seconds (or a timedelta) as ``2 h 5 min``."""
    if seconds is None:
        return ""
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    return _span(float(seconds))


@register.filter
def lifetime(seconds: int | None) -> str:
    """A link's lifetime in words: ``1 day``, ``1 hour 30 minutes``."""
    return "" if seconds is None else lifetime_words(seconds)


@register.filter
def qr_svg(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI for an ``<img>`` (the CSP allows data: images)."""
    return qr_data_uri(url)


@register.filter
def between(start: datetime | None, end: datetime | None) -> str:
    """How long from ``start`` to ``end`` (to now while ``end`` is None)."""
    if not start:
        return ""
    return _span(((end or timezone.now()) - start).total_seconds())


@register.filter
def alert_name(level: int) -> str:
    return _ALERT_NAMES.get(level, "info")


@register.filter
def pretty_json(value: object) -> str:
    """Any JSON-like value indented for a <pre> block (autoescaped by the template as usual)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def when(value: datetime | None, style: str = "absolute") -> str:
    """A ``<time>`` element: ``29 Nov 2026 17:01`` (or ``3 h ago`` with ``"relative"``), full time as title.

    Written in Python rather than as an included template because lists render it for every row.
    """
    if not value:
        return mark_safe('<span class="muted">—</span>')
    local = timezone.localtime(value)
    text = ago(value) if style == "relative" else local.strftime("%d %b %Y %H:%M")
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(),
                       local.strftime("%Y-%m-%d %H:%M:%S %Z"), text)
