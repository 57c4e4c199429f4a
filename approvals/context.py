"""What an approver reads before deciding: the journey as the journey page reads it (step data, alerts, files and
notes, live from Mint through ``journeys.page``), the input it was launched with through the portal, and the
approvals recorded so far (the portal's own votes).

Reads only. The live read goes through ``journeys.page.journey_read`` so that it counts as the journey's latest live
read (an open journey page then does not ask Mint again at once) and follows the page's outage rules.

Everything shown is masked here, never in a template: each declared personal value (``privacy``) shows as its mask,
and every text (the journey's name, alerts, file names, notes, approvers' reasons) has the journey's values masked.
The one exception is a user who revealed the journey on its page: while that reveal lasts (``reveal_active``) the
panel shows the journey in clear to them too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from approvals.models import ApprovalVote
from approvals.selectors import ApprovalPanel, clear_leaves
from journeys import page
from journeys.models import Journey
from launches.models import Launch
from mintportal.mint import errors
from mintportal.mint import models as mint
from privacy.masking import Masker, pseudonymise
from privacy.selectors import declaration_fields, reveal_active


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
    """The journey as the decision panel shows it, every part already masked for the user. ``journey`` (the live
    read, in clear: for the view to refresh the mirror, never for display) is None while Mint cannot be reached
    (``unavailable`` then holds the outage, for the view to note); ``notes`` is None when Mint could not give them.
    """

    journey_id: str
    journey: mint.JourneyDetail | None
    unavailable: errors.MintError | None
    # The input it was launched with through the portal (None when started elsewhere), as shown.
    input: dict[str, Any] | None
    step_data: tuple[page.StepData, ...]
    notes: tuple[page.NoteView, ...] | None
    alerts: tuple[mint.Alert, ...] = ()
    files: tuple[mint.JourneyFile, ...] = ()
    # What masked all of this, for the view to mask the rest of the panel alike (the name, the reasons).
    masker: Masker | None = None
    # The journey's data was removed (retention, erasure) and the user may not reveal it: nothing of it is shown.
    withheld: bool = False

    @property
    def revealed(self) -> bool:
        """Whether the user sees the journey in clear (a reveal of theirs on the journey's page is active)."""
        return self.masker is not None and self.masker.revealed


def _pretty(data: Any) -> str:
    # The journey page's own rendering of step data (journeys.page), so both read alike.
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def launch_input(*, journey_id: str) -> dict[str, Any] | None:
    """The input the journey was launched with through the portal; None for journeys started elsewhere (Mint's
    journey detail does not return a journey's input)."""
    value = Launch.objects.filter(journey_id=journey_id).values_list("input", flat=True).first()
    return value if isinstance(value, dict) else None


def decision_masker(*, user: AbstractBaseUser, journey: Journey, live: dict[str, Any] | None = None) -> Masker:
    """The masker for what the panel shows of ``journey`` (its mirror row) to ``user``: from the row's markers and,
    when the panel read them, the live ``{"input": ..., "steps": ...}`` values; revealed while the user's reveal of
    the journey lasts."""
    fields = declaration_fields(workflow_id=journey.workflow_id, version=journey.version)
    revealed = reveal_active(user=user, journey_id=journey.id, workflow_id=journey.workflow_id) is not None
    # Both trees' clear leaves are the journey's values: the live read's, and any the row still holds in clear
    # (written before the declaration); a list at the root is walked item by item.
    stored = clear_leaves(journey.data)
    clear = [live, stored] if live is not None else stored
    return Masker.for_data(journey.data, fields=fields, clear=clear, revealed=revealed)


def _shown(tree: dict[str, Any], *, masker: Masker, journey: Journey) -> dict[str, Any]:
    """A ``{"input": ..., "steps": ...}`` tree as the panel shows it: in clear when revealed, else each declared
    leaf as its mask and every other string with the journey's values masked."""
    if masker.revealed:
        return tree
    fields = declaration_fields(workflow_id=journey.workflow_id, version=journey.version)
    shown = masker.data(pseudonymise(tree, fields))
    return shown if isinstance(shown, dict) else {}


def decision_context(*, user: AbstractBaseUser, journey: Journey) -> DecisionContext:
    """The journey's step data, alerts, files and notes (two Mint calls: the journey and its notes; step names come
    from the cached workflow) and its launch input, masked for ``user`` (the module's docstring). Raises
    ``NotVisible`` for a journey the user may not view."""
    read = page.journey_read(user=user, journey_id=journey.id)
    if read.withheld:
        # Retention or an erasure request removed the journey's data, and this user may not reveal it.
        return DecisionContext(journey_id=journey.id, journey=None, unavailable=None, input=None, step_data=(),
                               notes=None, withheld=True)
    launched = launch_input(journey_id=journey.id)
    if read.journey is None:
        masker = decision_masker(user=user, journey=journey, live={"input": clear_leaves(launched or {})})
        shown_input = _shown({"input": launched}, masker=masker, journey=journey).get("input") if launched else None
        return DecisionContext(journey_id=journey.id, journey=None, unavailable=read.unavailable,
                               input=shown_input, step_data=(), notes=None, masker=masker)
    live_input = launched if launched is not None else dict(read.journey.input)
    live = {"input": clear_leaves(live_input), "steps": dict(read.journey.step_data)}
    masker = decision_masker(user=user, journey=journey, live=live)
    shown = _shown(live, masker=masker, journey=journey)
    notes = page.journey_notes_part(user=user, ref=read.ref, query=page.NoteQuery())
    step_data = tuple(
        page.StepData(step_id=step_id, label=notes.labels.get(step_id, step_id), pretty=_pretty(data))
        for step_id, data in (shown.get("steps") or {}).items()
    )
    masked_notes = None if notes.items is None else tuple(
        replace(item, note=item.note.model_copy(update={"content": masker.text(item.note.content)}))
        for item in notes.items
    )
    alerts = tuple(alert.model_copy(update={"message": masker.text(alert.message)})
                   for alert in read.journey.alerts)
    files = tuple(file.model_copy(update={"filename": masker.text(file.filename)}) for file in read.journey.files)
    shown_input = shown.get("input") if launched is not None else None
    return DecisionContext(journey_id=journey.id, journey=read.journey, unavailable=None, input=shown_input,
                           step_data=step_data, notes=masked_notes, alerts=alerts, files=files, masker=masker)


def panel_views(*, panels: Iterable[ApprovalPanel], masker: Masker) -> list[PanelView]:
    """Each decision form with who approved its open occurrence so far, when, and why (one query); the reasons
    with the journey's personal values masked by ``masker``."""
    panels = list(panels)
    if not panels:
        return []
    wanted = {(panel.step_id, panel.occurrence) for panel in panels}
    votes: dict[tuple[str, int], list[Vote]] = {}
    rows = (ApprovalVote.objects.filter(journey_id=panels[0].journey_id, step_id__in={p.step_id for p in panels})
            .order_by("at", "id").values_list("step_id", "occurrence", "username", "at", "reason"))
    for step_id, occurrence, username, at, reason in rows:
        if (step_id, occurrence) in wanted:
            votes.setdefault((step_id, occurrence), []).append(
                Vote(username=username, at=at, reason=masker.text(reason)))
    return [PanelView(panel=panel, votes=tuple(votes.get((panel.step_id, panel.occurrence), ()))) for panel in panels]
