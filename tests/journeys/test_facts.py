"""Mint's vocabulary as the journey mirror uses it, derived from the one definition in mintportal/mint/models.py."""

from __future__ import annotations

from typing import get_args

from journeys.models import NO_ALERT, JourneyStatus, alert_level_name, severity_level
from mintportal.mint.models import ALERT_SEVERITIES, FINAL_JOURNEY_STATUSES, JourneyStatusValue


def test_the_mirror_knows_every_journey_status_mint_has_and_no_other() -> None:
    assert set(JourneyStatus.values) == set(get_args(JourneyStatusValue))
    assert JourneyStatus.final() == FINAL_JOURNEY_STATUSES


def test_alert_levels_rise_with_mints_severities_and_name_them_back() -> None:
    levels = [severity_level(severity) for severity in ALERT_SEVERITIES]
    assert levels == sorted(levels) and levels[0] > NO_ALERT
    assert [alert_level_name(level) for level in levels] == list(ALERT_SEVERITIES)
    assert alert_level_name(NO_ALERT) == "none"


def test_an_unknown_severity_is_the_lowest_alert_and_an_unknown_level_reads_as_it() -> None:
    assert severity_level("urgent") == severity_level(ALERT_SEVERITIES[0])
    assert severity_level("CRITICAL") == severity_level("critical")
    assert alert_level_name(99) == ALERT_SEVERITIES[0]
