"""What an approver reads before deciding: the journey as the journey page reads it (step data, alerts, files and
notes, live from Mint through ``journeys.page``), the input it was launched with through the portal, and the
approvals recorded so far (the portal's own votes).

Reads only. The live read goes through ``journeys.page.journey_read`` so that it counts as the journey's latest live
read (an open journey page then does not ask Mint again at once) and follows the page's outage rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from approvals.models import ApprovalVote
from approvals.selectors import ApprovalPanel
from journeys import page
from launches.models import Launch
from mintportal.mint import errors
from mintportal.mint import models as mint


@dataclass(frozen=True)
class Vote:
    """One approval recorded for the open occurrence of an approval step."""

    username: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class PanelView:
    """One approval step's decision form with the approvals recorded for it so far, oldest first."""

    panel: ApprovalPanel
    votes: tuple[Vote, ...]


@dataclass(frozen=True)
class DecisionContext:
    """The journey as the decision panel shows it. ``journey`` is None while Mint cannot be reached
    (``unavailable`` then holds the outage, for the view to note); ``notes`` is None when Mint could not give them.
    """

    journey_id: str
    journey: mint.JourneyDetail | None
    unavailable: errors.MintError | None
    # The input it was launched with through the portal (None when started elsewhere).
    input: dict[str, Any] | None
    step_data: tuple[page.StepData, ...]
    notes: tuple[page.NoteView, ...] | None

    @property
    def alerts(self) -> list[mint.Alert]:
        return list(self.journey.alerts) if self.journey is not None else []

    @property
    def files(self) -> list[mint.JourneyFile]:
        return list(self.journey.files) if self.journey is not None else []


def _pretty(data: Any) -> str:
    # The journey page's own rendering of step data (journeys.page), so both read alike.
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def launch_input(*, journey_id: str) -> dict[str, Any] | None:
    """The input the journey was launched with through the portal; None for journeys started elsewhere (Mint's
    journey detail does not return a journey's input)."""
    value = Launch.objects.filter(journey_id=journey_id).values_list("input", flat=True).first()
    return value if isinstance(value, dict) else None


def decision_context(*, user: AbstractBaseUser, journey_id: str) -> DecisionContext:
    """The journey's step data, alerts, files and notes (two Mint calls: the journey and its notes; step names come
    from the cached workflow) and its launch input. Raises ``NotVisible`` for a journey the user may not view."""
    read = page.journey_read(user=user, journey_id=journey_id)
    launched = launch_input(journey_id=journey_id)
    if read.journey is None:
        return DecisionContext(journey_id=journey_id, journey=None, unavailable=read.unavailable,
                               input=launched, step_data=(), notes=None)
    notes = page.journey_notes_part(user=user, ref=read.ref, query=page.NoteQuery())
    step_data = tuple(
        page.StepData(step_id=step_id, label=notes.labels.get(step_id, step_id), pretty=_pretty(data))
        for step_id, data in read.journey.step_data.items()
    )
    return DecisionContext(journey_id=journey_id, journey=read.journey, unavailable=None, input=launched,
                           step_data=step_data, notes=notes.items)


def panel_views(*, panels: Iterable[ApprovalPanel]) -> list[PanelView]:
    """Each decision form with who approved its open occurrence so far, when, and why (one query)."""
    panels = list(panels)
    if not panels:
        return []
    wanted = {(panel.step_id, panel.occurrence) for panel in panels}
    votes: dict[tuple[str, int], list[Vote]] = {}
    rows = (ApprovalVote.objects.filter(journey_id=panels[0].journey_id, step_id__in={p.step_id for p in panels})
            .order_by("at", "id").values_list("step_id", "occurrence", "username", "at", "reason"))
    for step_id, occurrence, username, at, reason in rows:
        if (step_id, occurrence) in wanted:
            votes.setdefault((step_id, occurrence), []).append(Vote(username=username, at=at, reason=reason))
    return [PanelView(panel=panel, votes=tuple(votes.get((panel.step_id, panel.occurrence), ()))) for panel in panels]
