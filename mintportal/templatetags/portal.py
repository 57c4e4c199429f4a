"""Template filters for the portal's pages: times in the portal's zone, durations, alert levels and JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Final

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from mintportal.lifetimes import lifetime_words
from mintportal.mint.models import ALERT_SEVERITIES
from mintportal.qr import qr_data_uri

register = template.Library()

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
    """The severity a journey's alert level (1, 2, 3) stands for, by Mint's order of ALERT_SEVERITIES."""
    return ALERT_SEVERITIES[min(max(level, 1), len(ALERT_SEVERITIES)) - 1]


@register.filter
def pretty_json(value: object) -> str:
    """Any JSON-like value indented for a <pre> block (autoescaped by the template as usual)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


# How each style of ``when`` writes the local time; the zone's abbreviation follows it.
_WHEN_FORMATS: Final = {"absolute": "%d %b %Y %H:%M", "seconds": "%Y-%m-%d %H:%M:%S", "time": "%H:%M:%S"}


def zone_label(local: datetime) -> str:
    """The abbreviation of the zone ``local`` is in at that moment (``CET``, ``CEST``, ``UTC``); the zone's name
    where it has no letters of its own (``America/Sao_Paulo`` rather than ``-03``)."""
    abbreviation = local.tzname() or ""
    if abbreviation[:1].isalpha():
        return abbreviation
    return str(getattr(local.tzinfo, "key", "") or timezone.get_current_timezone_name())


@register.filter
def when(value: datetime | None, style: str = "absolute") -> str:
    """A ``<time>`` element in the portal's time zone (``PORTAL_TIME_ZONE``), labelled with that zone:
    ``29 Nov 2026 17:01 CET``; ``"seconds"``: ``2026-11-29 17:01:05 CET``; ``"time"``: ``17:01:05 CET``;
    ``"relative"``: ``3 h ago``. The full time and zone are its title.

    Written in Python rather than as an included template because lists render it for every row.
    """
    if not value:
        return mark_safe('<span class="muted">—</span>')
    local = timezone.localtime(value)
    zone = zone_label(local)
    if style == "relative":
        text = ago(value)
    else:
        text = f"{local.strftime(_WHEN_FORMATS.get(style, _WHEN_FORMATS['absolute']))} {zone}"
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(),
                       f"{local.strftime(_WHEN_FORMATS['seconds'])} {zone}", text)
