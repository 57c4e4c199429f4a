"""Times on the pages are in the portal's time zone (PORTAL_TIME_ZONE) and say which: the ``when`` filter."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.template import Context, Template

WINTER = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, 5, tzinfo=UTC)


def render(source: str, value: datetime) -> str:
    return Template("{% load portal %}" + source).render(Context({"value": value}))


@pytest.fixture
def oslo(settings) -> None:
    settings.TIME_ZONE = "Europe/Oslo"


def test_a_time_is_shown_in_the_portals_zone_with_its_abbreviation(oslo: None) -> None:
    html = render("{{ value|when }}", WINTER)
    assert ">15 Jan 2026, 13:00 CET</time>" in html
    assert 'datetime="2026-01-15T13:00:05+01:00"' in html
    assert 'title="2026-01-15 13:00:05 CET (Europe/Oslo, UTC+01:00) · ' in html
    assert " UTC<" not in html and "UTC+00:00" not in html


def test_the_label_follows_daylight_saving_time(oslo: None) -> None:
    assert ">2026-07-15 14:00:05 CEST</time>" in render('{{ value|when:"seconds" }}', SUMMER)
    assert ">14:00:05 CEST</time>" in render('{{ value|when:"time" }}', SUMMER)


def test_a_zone_without_an_abbreviation_is_named(settings) -> None:
    settings.TIME_ZONE = "America/Sao_Paulo"
    assert ">15 Jan 2026, 09:00 America/Sao_Paulo</time>" in render("{{ value|when }}", WINTER)


def test_utc_is_labelled_utc(settings) -> None:
    settings.TIME_ZONE = "UTC"
    assert ">15 Jan 2026, 12:00 UTC</time>" in render("{{ value|when }}", WINTER)


def test_no_template_labels_a_time_with_a_zone_of_its_own() -> None:
    # Every time goes through ``when``, which names the zone the time is really in.
    templates = Path(__file__).resolve().parents[2] / "templates"
    labelled = [str(path) for path in templates.rglob("*.html") if re.search(r"\bUTC\b", path.read_text())]
    assert labelled == []
