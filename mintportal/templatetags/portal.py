"""Template filters for the portal's pages: times in the portal's zone, durations, alert levels and JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Final

from asgiref.local import Local
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
# ``absolute`` puts the day without a leading zero in front (``3 Dec 2026, 14:03``): strftime's %-d is not portable.
_WHEN_FORMATS: Final = {"absolute": "%b %Y, %H:%M", "seconds": "%Y-%m-%d %H:%M:%S", "time": "%H:%M:%S"}

# Whether times read "3 h ago" or "15 Jan 2026 13:00 CET" (the other is their title): chosen per request, like
# Django's active time zone, by the middleware that activates the user's zone (accounts/time_zones.py), because a
# filter sees no request.
ABSOLUTE: Final = "absolute"
RELATIVE: Final = "relative"
TIME_DISPLAYS: Final = (ABSOLUTE, RELATIVE)
_active = Local()


def time_display_activate(display: str) -> None:
    """Shows the times of this request (thread or task) as ``display`` (``absolute`` or ``relative``)."""
    _active.display = display if display in TIME_DISPLAYS else ABSOLUTE


def time_display_deactivate() -> None:
    if hasattr(_active, "display"):
        del _active.display


def time_display() -> str:
    """How times are shown now: ``absolute`` unless a request chose ``relative``."""
    return getattr(_active, "display", ABSOLUTE)


@register.simple_tag(name="current_time_display")
def current_time_display() -> str:
    """``{% current_time_display as display %}``: ``absolute`` or ``relative``, as the times on this page are."""
    return time_display()


@register.simple_tag
def current_time_zone() -> str:
    """``{% current_time_zone as zone %}``: the name of the zone the times on this page are drawn in."""
    return timezone.get_current_timezone_name()


def time_render_key() -> str:
    """What a rendered time depends on besides the value and the clock: the active zone and display. A cache of
    rendered HTML puts it in its key, so that no one is served times drawn in another person's zone."""
    return f"{timezone.get_current_timezone_name()}|{time_display()}"


def zone_label(local: datetime) -> str:
    """The abbreviation of the zone ``local`` is in at that moment (``CET``, ``CEST``, ``UTC``); the zone's name
    where it has no letters of its own (``America/Sao_Paulo`` rather than ``-03``)."""
    abbreviation = local.tzname() or ""
    if abbreviation[:1].isalpha():
        return abbreviation
    return zone_name(local)


def zone_name(local: datetime) -> str:
    """The IANA name of the zone ``local`` is in (``Europe/Oslo``)."""
    return str(getattr(local.tzinfo, "key", "") or timezone.get_current_timezone_name())


def zone_description(local: datetime) -> str:
    """The zone by name and its offset at that moment: ``Europe/Oslo, UTC+02:00``."""
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{zone_name(local)}, UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@register.filter
def when(value: datetime | None, style: str = "absolute") -> str:
    """A ``<time>`` element in the active time zone (the user's, else ``PORTAL_TIME_ZONE``), labelled with that
    zone: ``29 Nov 2026, 17:01 CET``; ``"seconds"``: ``2026-11-29 17:01:05 CET``; ``"time"``: ``17:01:05 CET``.

    Whether it reads that way or ``3 h ago`` is the request's time display (``time_display()``), not the
    template's: the header's toggle switches every time on the page at once (static/js/portal.js swaps the text
    and title from the ``data-`` attributes without asking the server). The title is the exact time with the
    zone's name and offset, followed by the relative form when the text is absolute. ``"relative"`` is the
    default style, kept for the templates that asked for it.

    Written in Python rather than as an included template because lists render it for every row.
    """
    if not value:
        return mark_safe('<span class="muted">—</span>')
    local = timezone.localtime(value)
    zone = zone_label(local)
    absolute = f"{local.strftime(_WHEN_FORMATS.get(style, _WHEN_FORMATS['absolute']))} {zone}"
    if style not in ("seconds", "time"):
        absolute = f"{local.day} {absolute}"
    full = f"{local.strftime(_WHEN_FORMATS['seconds'])} {zone}"
    described = zone_description(local)
    relative = ago(value)
    # The title always names the exact time and the zone by name and offset; absolute times add the relative.
    if time_display() == RELATIVE:
        text, title = relative, f"{full} ({described})"
    else:
        text, title = absolute, f"{full} ({described}) · {relative}"
    return format_html(
        '<time datetime="{}" title="{}" data-when data-absolute="{}" data-full="{}" data-zone="{}">{}</time>',
        local.isoformat(), title, absolute, full, described, text)


@register.filter
def waited(since: datetime | None, words: str = "") -> str:
    """How long something has waited, ``3 h 5 min`` (after ``words``, if given: ``waiting 3 h 5 min``), as a
    ``<time>`` whose title is when it began, in the active zone and labelled: a duration reads the same in either
    time display, so the toggle leaves it alone."""
    if not since:
        return ""
    local = timezone.localtime(since)
    began = f"{local.strftime(_WHEN_FORMATS['seconds'])} {zone_label(local)} ({zone_description(local)})"
    span = _span((timezone.now() - since).total_seconds())
    return format_html('<time datetime="{}" title="since {}">{}</time>', local.isoformat(), began,
                       f"{words} {span}" if words else span)
