"""Reads for a journey's page: the whole page (``journey_page``) and each region the page redraws on its own.

The page reads the journey live from Mint (step data, files and the execution log live only there); its parts
are typed, one per region of the template: the header, the steps it waits on (``ActionsPart``), the live
details, the journey URL card (``SharePart``), the notes (``NotesPart``) and what was done through the portal
(``AuditPart``). A part Mint cannot give (the log, the workflow, the notes) is left out alone; only the journey
itself decides whether the page is live or shows the mirror row.

Every value of Mint's a part holds has passed through the journey's ``privacy.masking.Masker`` here (``PrivacyPart``
says whether this user sees the journey's personal data masked or revealed), so no template can forget to mask.
Once retention or an erasure request removed a journey's data, only someone who may reveal it reads it live.

An open page polls ``journey_poll_quiet``, which reads the mirror row only: while the row is what the page was
drawn from (``mirror_fingerprint``) and the journey was read live less than ``LIVE_READ_INTERVAL`` seconds ago by
any tab, Mint is not asked. Webhooks and the sync change the row when the journey changes, which ends the quiet.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Action, AuditEvent
from accounts.policy import ensure_can, user_can
from accounts.selectors import audit_events_for_journey
from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Journey
from journeys.selectors import interactive_step_types, journey_mirror_get
from mintportal.cache import cache_key
from mintportal.errors import NotAllowed, NotVisible
from mintportal.mint import errors, get_client, models
from mintportal.outage import is_outage
from privacy.masking import Masker, PersonalField, pseudonymise
from privacy.models import RevealGrant
from privacy.selectors import declaration_fields, may_reveal, reveal_active
from workflows.graph import Graph, workflow_graph
from workflows.selectors import StepFormView, step_form_get, workflow_get

logger = logging.getLogger(__name__)

# An open page asks Mint about an unchanged journey at most this often (seconds), however many tabs show it.
LIVE_READ_INTERVAL: Final = 60

# What a journey waiting on a step of each type is waiting for, in the words a case handler uses.
WAITS_FOR: Final = {
    "form": "the end user to fill in the form at the journey URL",
    "eid-login": "the end user to sign in with an eID at the journey URL",
    SUSPEND_STEP: "someone to continue this step by hand",
    APPROVAL_STEP: "an approver to approve or reject",
    "waiting": "a timer to run out",
}

Viewer = AbstractBaseUser | AnonymousUser


# --- the parts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingStep:
    step_id: str
    step_type: str
    label: str
    waits_for: str
    interactive: bool
    # A suspend step's form (saved, or derived from the definition); None when the definition could not be read.
    form: StepFormView | None = None

    @property
    def resumable(self) -> bool:
        return self.step_type == SUSPEND_STEP

    @property
    def approval(self) -> bool:
        return self.step_type == APPROVAL_STEP


@dataclass(frozen=True)
class StepData:
    step_id: str
    label: str
    pretty: str


@dataclass(frozen=True)
class TimelineStep:
    """One step of the execution log, as the timeline draws it."""

    step_id: str
    label: str
    step_type: str
    status: str
    outcome: str
    started_at: datetime | None
    ended_at: datetime | None
    events: tuple[models.JourneyLogEvent, ...]


@dataclass(frozen=True)
class JourneyLive:
    """The live details region: the journey as Mint describes it, its execution log and its workflow's graph.

    ``log`` is None and ``graph`` too when Mint could not give the log or the workflow; the region leaves them out.
    """

    journey: models.JourneyDetail
    log: models.JourneyLog | None
    step_data: tuple[StepData, ...]
    graph: Graph | None
    timeline: tuple[TimelineStep, ...]


@dataclass(frozen=True)
class HeaderPart:
    """The status header: the live journey, or the mirror row while Mint cannot answer."""

    summary: models.JourneyDetail | Journey
    workflow_name: str
    log: models.JourneyLog | None


@dataclass(frozen=True)
class ActionsPart:
    """The steps the journey waits on, and what this user may do about them."""

    waiting: tuple[WaitingStep, ...]
    may_continue: bool
    may_approve: bool
    # Someone who manages the workflow may also continue a step with raw JSON.
    may_manage: bool = False
    # The mirror says a step waits, but Mint could not say which.
    pending_unknown: bool = False

    @property
    def awaits_approval(self) -> bool:
        return any(step.approval for step in self.waiting)

    @property
    def signature(self) -> str:
        """Changes whenever the set of waiting steps changes (the page then redraws its action forms)."""
        ids = ",".join(sorted(f"{step.step_id}:{step.step_type}" for step in self.waiting))
        return hashlib.sha256(ids.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SharePart:
    """The journey URL card: offered while a step waits on the end user (or none has run yet)."""

    final: bool
    offered: bool
    may_share: bool


@dataclass(frozen=True)
class NotesPart:
    """The notes, newest first (None when Mint could not give them), and the steps a note may be about."""

    items: tuple[NoteView, ...] | None
    labels: dict[str, str]
    may_annotate: bool
    # The journey's data was removed and this user may not reveal it: the notes are not read.
    withheld: bool = False


@dataclass(frozen=True)
class PrivacyPart:
    """How this user sees the journey's personal data: masked, or revealed to them until ``grant.expires_at``.

    ``removed_at``/``removed_by`` say when retention or an erasure request removed the journey's data; ``withheld``
    then means this user may not reveal it, so the page is drawn from the mirror row without asking Mint.
    """

    fields: tuple[PersonalField, ...]
    may_reveal: bool
    grant: RevealGrant | None
    removed_at: datetime | None = None
    removed_by: str = ""

    @property
    def revealed(self) -> bool:
        return self.grant is not None

    @property
    def withheld(self) -> bool:
        return self.removed_at is not None and not self.may_reveal

    @property
    def offers_reveal(self) -> bool:
        """The "Reveal personal data" button: for someone with the right, on a journey with declared fields."""
        return bool(self.fields) and self.may_reveal and not self.revealed

    @property
    def paths(self) -> list[str]:
        return [personal.path for personal in self.fields]

    @property
    def minutes(self) -> int:
        return int(settings.PERSONAL_DATA_REVEAL_MINUTES)


@dataclass(frozen=True)
class AuditPart:
    events: tuple[AuditEvent, ...]
    may_audit: bool


@dataclass(frozen=True)
class NoteView:
    note: models.JourneyNote
    author: str
    edited_by: str


@dataclass(frozen=True)
class NoteQuery:
    """Which notes the notes region lists: matching ``search``, about ``step_id``; empty means all."""

    search: str = ""
    step_id: str = ""


@dataclass(frozen=True)
class JourneyRef:
    """The journey a request is about, as access checks need it: from the mirror row, or from Mint for a
    journey the mirror has not seen yet (then ``row`` is None)."""

    journey_id: str
    workflow_id: str
    version: int
    row: Journey | None


@dataclass(frozen=True)
class JourneyRead:
    """One live read of a journey: the journey from Mint, or the Mint outage that kept it (``unavailable``)."""

    ref: JourneyRef
    journey: models.JourneyDetail | None
    unavailable: errors.MintError | None = None
    # The journey's data was removed and the user may not reveal it, so Mint was not asked.
    withheld: bool = False


@dataclass(frozen=True)
class JourneyPage:
    """Everything a journey's page shows, one part per region."""

    journey_id: str
    row: Journey | None
    unavailable: errors.MintError | None
    final: bool
    fingerprint: str
    header: HeaderPart
    actions: ActionsPart
    live: JourneyLive | None
    share: SharePart
    audit: AuditPart
    privacy: PrivacyPart
    notes: NotesPart | None = None

    @property
    def signature(self) -> str:
        return self.actions.signature


# --- reading the journey --------------------------------------------------------------------------


def _journey_from_mint(journey_id: str) -> models.JourneyDetail:
    try:
        return get_client().get_journey(journey_id)
    except errors.MintNotFoundError:
        raise NotVisible("No such journey.") from None


def journey_ref(*, user: Viewer, journey_id: str, action: str) -> JourneyRef:
    """The journey ``user`` may do ``action`` on, checked on its workflow from the mirror (from Mint for a
    journey not mirrored yet, without writing the mirror). Raises for a journey the user may not see or act on."""
    row = journey_mirror_get(journey_id=journey_id)
    if row is None:
        journey = _journey_from_mint(journey_id)
        ensure_can(user=user, action=action, workflow_id=journey.workflow_id)
        return JourneyRef(journey_id=journey_id, workflow_id=journey.workflow_id, version=journey.version, row=None)
    ensure_can(user=user, action=action, workflow_id=row.workflow_id)
    return JourneyRef(journey_id=journey_id, workflow_id=row.workflow_id, version=row.version, row=row)


def _live_read_key(journey_id: str) -> str:
    return cache_key("journeys", "live-read", journey_id)


def journey_read(*, user: Viewer, journey_id: str) -> JourneyRead:
    """Reads the journey from Mint for a user who may view it: one Mint call, noted as the journey's latest live
    read (``journey_poll_quiet``). When Mint cannot answer about a mirrored journey the read carries the outage
    instead; for one the portal has never seen the ``MintError`` is raised."""
    row = journey_mirror_get(journey_id=journey_id)
    if row is not None:
        ensure_can(user=user, action=Action.VIEW, workflow_id=row.workflow_id)
        if data_withheld(user=user, row=row):
            ref = JourneyRef(journey_id=journey_id, workflow_id=row.workflow_id, version=row.version, row=row)
            return JourneyRead(ref=ref, journey=None, withheld=True)
    # Noted before asking, so that while Mint is away a page asks again at most once a minute too. The stored time is
    # what counts (journey_poll_quiet compares it with now); the entry's expiry only tidies the cache.
    cache.set(_live_read_key(journey_id), timezone.now().timestamp(), timeout=LIVE_READ_INTERVAL * 10)
    try:
        journey = _journey_from_mint(journey_id)
    except errors.MintError as exc:
        if row is None or not is_outage(exc):
            raise
        ref = JourneyRef(journey_id=journey_id, workflow_id=row.workflow_id, version=row.version, row=row)
        return JourneyRead(ref=ref, journey=None, unavailable=exc)
    if row is None:
        ensure_can(user=user, action=Action.VIEW, workflow_id=journey.workflow_id)
    ref = JourneyRef(journey_id=journey_id, workflow_id=journey.workflow_id, version=journey.version, row=row)
    return JourneyRead(ref=ref, journey=journey)


def mirror_fingerprint(row: Journey) -> str:
    """Changes whenever the sync, a webhook or a live read writes something new about the journey to its row."""
    # A journey that moves on to other steps, or raises an alert, also gets a new last executed time.
    facts: list[object] = [row.status, row.name, row.version, row.workflow_name, row.pending_steps, row.alert_count,
                           row.alert_level]
    facts += [moment.timestamp() if moment else None for moment in (
        row.last_executed_at, row.finished_at, row.faulted_at, row.cancelled_at)]
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def journey_poll_quiet(*, row: Journey, fingerprint: str) -> bool:
    """Whether a page drawn from a row with ``fingerprint`` has nothing new to show without asking Mint: the row
    has not changed since, and some page read the journey live less than ``LIVE_READ_INTERVAL`` seconds ago."""
    if fingerprint != mirror_fingerprint(row):
        return False
    last_read = cache.get(_live_read_key(row.id))
    return last_read is not None and timezone.now().timestamp() - last_read < LIVE_READ_INTERVAL


# --- personal data ------------------------------------------------------------------------------------


def data_withheld(*, user: Viewer, row: Journey | None) -> bool:
    """Whether the journey's data was removed (retention, erasure) and ``user`` may not reveal it: then nothing of
    it is read from Mint for them (not the journey, its notes or its files)."""
    return (row is not None and row.data_removed_at is not None
            and not may_reveal(user=user, workflow_id=row.workflow_id))


def journey_privacy(*, user: Viewer, ref: JourneyRef, row: Journey | None = None) -> PrivacyPart:
    """The journey's declared personal fields and whether ``user`` sees them revealed now (``row``: the mirror
    row as just refreshed, else the reference's)."""
    # The row a live read just refreshed is built from Mint's words; the one read before it says what the portal
    # removed.
    row = ref.row or row
    allowed = may_reveal(user=user, workflow_id=ref.workflow_id)
    grant = reveal_active(user=user, journey_id=ref.journey_id, workflow_id=ref.workflow_id) if allowed else None
    return PrivacyPart(fields=declaration_fields(workflow_id=ref.workflow_id, version=ref.version),
                       may_reveal=allowed, grant=grant, removed_at=row.data_removed_at if row else None,
                       removed_by=row.data_removed_by if row else "")


def _clear(journey: models.JourneyDetail) -> dict[str, Any]:
    """A live read's data in the shape declared paths are dotted from (``input.…``, ``steps.<stepId>.…``)."""
    return {"input": dict(journey.input), "steps": dict(journey.step_data)}


def journey_masker(*, privacy: PrivacyPart, row: Journey | None,
                   journey: models.JourneyDetail | None = None) -> Masker:
    """The masker of what the page shows: it knows the values of the live read when there is one, and those the
    mirror row holds (as markers; a row written before its workflow declared them is marked here)."""
    stored = row.data if row is not None and isinstance(row.data, dict) else {}
    return Masker.for_data(pseudonymise(stored, privacy.fields), fields=privacy.fields,
                           clear=_clear(journey) if journey is not None else None, revealed=privacy.revealed)


def _shown_tree(masker: Masker, fields: Sequence[PersonalField], tree: dict[str, Any]) -> dict[str, Any]:
    """A data tree as this user sees it: every declared leaf as its mask (numbers too, which text masking would
    miss), every other string masked as text; revealed, as Mint gave it."""
    if masker.revealed:
        return tree
    shown = masker.data(pseudonymise(tree, fields))
    return shown if isinstance(shown, dict) else {}


def _masked_journey(journey: models.JourneyDetail, masker: Masker,
                    fields: Sequence[PersonalField]) -> models.JourneyDetail:
    """A copy of a live read with its name, input, step data, loops, alert messages and file names masked."""
    if masker.revealed:
        return journey
    shown = _shown_tree(masker, fields, _clear(journey))
    loops = {step_id: [iteration.model_copy(update={
        "step_data": _shown_tree(masker, fields, {"steps": dict(iteration.step_data)}).get("steps", {})})
        for iteration in iterations] for step_id, iterations in journey.loops.items()}
    return journey.model_copy(update={
        "name": masker.text(journey.name) if journey.name else journey.name,
        "input": shown.get("input", {}), "step_data": shown.get("steps", {}), "loops": loops,
        "alerts": [alert.model_copy(update={"message": masker.text(alert.message)}) for alert in journey.alerts],
        "files": [file.model_copy(update={"filename": masker.text(file.filename)}) for file in journey.files],
    })


def _masked_log(log: models.JourneyLog | None, masker: Masker) -> models.JourneyLog | None:
    if log is None or masker.revealed:
        return log
    return log.model_copy(update={"steps": [step.model_copy(update={"events": [
        event.model_copy(update={"message": masker.text(event.message)}) if event.message else event
        for event in step.events]}) for step in log.steps]})


def _masked_row(row: Journey, masker: Masker, *, withheld: bool) -> Journey:
    """A copy of the mirror row to draw from (never saved): its name and alert messages masked, its data as masks;
    with the data withheld, no alert messages at all."""
    shown = copy.copy(row)
    shown.name = masker.text(row.name)
    alerts = row.alerts if isinstance(row.alerts, list) else []
    shown.alerts = [] if withheld else [
        {**alert, "message": masker.text(str(alert.get("message") or ""))} for alert in alerts
        if isinstance(alert, dict)]
    shown.data = {} if withheld else masker.data(row.data)
    return shown


def _masked_events(events: Iterable[AuditEvent], masker: Masker) -> tuple[AuditEvent, ...]:
    """Audit summaries never hold a personal value by design; older events, or Mint's words quoted in a refusal,
    might, so they are masked like any other text on the page."""
    shown = []
    for event in events:
        copied = copy.copy(event)
        copied.summary = masker.text(event.summary)
        shown.append(copied)
    return tuple(shown)


def masked_note(view: NoteView, masker: Masker) -> NoteView:
    return replace(view, note=view.note.model_copy(update={"content": masker.text(view.note.content)}))


# --- the parts, each from only what it shows --------------------------------------------------------


def _workflow(ref: JourneyRef) -> models.WorkflowDefinition | None:
    try:
        return workflow_get(workflow_id=ref.workflow_id, version=ref.version)
    except errors.MintError as exc:
        logger.warning("journey %s: no workflow definition: %s trace_id=%s", ref.journey_id, type(exc).__name__,
                       exc.trace_id or "-")
        return None


def _step_labels(workflow: models.WorkflowDefinition | None) -> dict[str, str]:
    if workflow is None:
        return {}
    return {step.id: step.display_name or step.name or step.id for step in workflow.steps}


def _status_word(status: models.JourneyLogStepStatus | str | None) -> str:
    if isinstance(status, models.JourneyLogStepStatus):
        return status.name or ""
    return str(status or "")


def _status_outcome(status: models.JourneyLogStepStatus | str | None) -> str:
    return (status.outcome or "") if isinstance(status, models.JourneyLogStepStatus) else ""


def _log_states(log: models.JourneyLog | None) -> dict[str, str]:
    states: dict[str, str] = {}
    for step in log.steps if log else []:
        status = _status_word(step.status).lower()
        if "fault" in status or "fail" in status:
            states[step.step_id] = "faulted"
        elif step.ended_at is not None or status in {"finished", "done", "completed"}:
            states.setdefault(step.step_id, "done")
    return states


def _waiting(journey: models.JourneyDetail, labels: dict[str, str]) -> tuple[WaitingStep, ...]:
    interactive = interactive_step_types() if journey.active_steps else set()
    return tuple(
        WaitingStep(
            step_id=step.step_id, step_type=step.step_type, label=labels.get(step.step_id, step.step_id),
            waits_for=WAITS_FOR.get(step.step_type)
            or ("the end user at the journey URL" if step.step_type in interactive else "something outside Mint"),
            interactive=step.step_type in interactive,
        )
        for step in journey.active_steps
    )


def _log(journey_id: str) -> models.JourneyLog | None:
    try:
        return get_client().get_journey_log(journey_id)
    except errors.MintError as exc:
        # A log Mint does not have, cannot give now, or one the portal cannot read leaves the timeline out.
        logger.warning("journey %s: no execution log: %s trace_id=%s", journey_id, type(exc).__name__,
                       exc.trace_id or "-")
        return None


def _live(journey: models.JourneyDetail, workflow: models.WorkflowDefinition | None,
          labels: dict[str, str], *, masker: Masker, fields: Sequence[PersonalField]) -> JourneyLive:
    """The live region from a live read, masked by ``masker`` (the graph shows only the workflow's own words)."""
    read_log = _log(journey.id)
    shown, log = _masked_journey(journey, masker, fields), _masked_log(read_log, masker)
    step_data = tuple(
        StepData(step_id=step_id, label=labels.get(step_id, step_id),
                 pretty=json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str))
        for step_id, data in shown.step_data.items()
    )
    graph = None
    if workflow is not None and workflow.steps:
        graph = workflow_graph(steps=workflow.steps, connections=workflow.connections,
                               active={step.step_id for step in journey.active_steps}, states=_log_states(read_log))
    timeline = tuple(
        TimelineStep(step_id=step.step_id, label=labels.get(step.step_id, step.step_id), step_type=step.step_type,
                     status=_status_word(step.status), outcome=_status_outcome(step.status),
                     started_at=step.started_at, ended_at=step.ended_at, events=tuple(step.events))
        for step in (log.steps if log else [])
    )
    return JourneyLive(journey=shown, log=log, step_data=step_data, graph=graph, timeline=timeline)


def _with_forms(waiting: tuple[WaitingStep, ...], workflow: models.WorkflowDefinition | None
                ) -> tuple[WaitingStep, ...]:
    """The waiting steps, each suspend step with the form a person fills in to continue it."""
    if workflow is None:
        return waiting
    return tuple(replace(step, form=step_form_get(workflow=workflow, step_id=step.step_id)) if step.resumable
                 else step for step in waiting)


def journey_actions(*, user: Viewer, ref: JourneyRef) -> ActionsPart:
    """The waiting steps region on its own (after a refused continue): one Mint call for the journey."""
    journey = _journey_from_mint(ref.journey_id)
    workflow = _workflow(ref)
    return ActionsPart(
        waiting=_with_forms(_waiting(journey, _step_labels(workflow)), workflow),
        may_continue=user_can(user=user, action=Action.CONTINUE, workflow_id=ref.workflow_id),
        may_approve=user_can(user=user, action=Action.APPROVE, workflow_id=ref.workflow_id),
        may_manage=user_can(user=user, action=Action.MANAGE, workflow_id=ref.workflow_id),
    )


def journey_share(*, user: Viewer, ref: JourneyRef) -> SharePart:
    """The journey URL card for a share form just posted: offered (the service checked whether a step waits on
    the end user), unless the mirror knows the journey has ended. No Mint call."""
    return SharePart(final=bool(ref.row and ref.row.is_final), offered=True,
                     may_share=user_can(user=user, action=Action.SHARE, workflow_id=ref.workflow_id))


def journey_notes(*, journey_id: str, query: NoteQuery = NoteQuery()) -> list[NoteView]:
    """The journey's notes, newest first, each with the portal user who wrote it (from the audit trail); with
    ``query.step_id``, only the notes about that step (Mint's listing has no such filter, so the portal applies it).

    Mint records the API client as every note's author; the portal knows the person from its own
    ``note.create`` / ``note.update`` audit events and falls back to Mint's author for notes made elsewhere.
    """
    notes = [note for note in get_client().iter_journey_notes(journey_id, search=query.search or None)
             if not query.step_id or note.step_id == query.step_id]
    notes.sort(key=lambda note: (note.created_at or datetime.min.replace(tzinfo=UTC), note.id), reverse=True)
    authors: dict[str, str] = {}
    editors: dict[str, str] = {}
    events = (AuditEvent.objects.filter(journey_id=journey_id, action__in=("note.create", "note.update"),
                                        outcome=AuditEvent.Outcome.OK)
              .order_by("at", "id").values_list("action", "actor_username", "detail"))
    for action, username, detail in events:
        note_id = str((detail or {}).get("note_id", ""))
        (authors if action == "note.create" else editors)[note_id] = username
    return [NoteView(note=note, author=authors.get(note.id, note.created_by), edited_by=editors.get(note.id, ""))
            for note in notes]


def journey_notes_part(*, user: Viewer, ref: JourneyRef, query: NoteQuery, labels: dict[str, str] | None = None,
                       privacy: PrivacyPart | None = None, masker: Masker | None = None) -> NotesPart:
    """The notes region, each note's text masked for ``user``: one Mint call for the notes (the workflow's step
    names come from its cache), none when the journey's data is withheld from them. Without the page's
    ``privacy`` and ``masker``, both are read here (the mirror row's values are what the masker knows)."""
    privacy = privacy or journey_privacy(user=user, ref=ref)
    may_annotate = user_can(user=user, action=Action.ANNOTATE, workflow_id=ref.workflow_id)
    if privacy.withheld:
        return NotesPart(items=None, labels=labels or {}, may_annotate=may_annotate, withheld=True)
    masker = masker or journey_masker(privacy=privacy, row=ref.row)
    try:
        items: tuple[NoteView, ...] | None = tuple(
            masked_note(view, masker) for view in journey_notes(journey_id=ref.journey_id, query=query))
    except errors.MintError as exc:
        logger.warning("journey %s: no notes: %s trace_id=%s", ref.journey_id, type(exc).__name__,
                       exc.trace_id or "-")
        items = None
    return NotesPart(items=items, labels=_step_labels(_workflow(ref)) if labels is None else labels,
                     may_annotate=may_annotate)


def journey_note_editable(*, user: Viewer, ref: JourneyRef, note_id: str) -> NoteView:
    """The note ``user`` is about to edit, its text in clear (the edit form shows it): refused while the journey's
    data is withheld from them, or while the note holds personal data they have not revealed."""
    privacy = journey_privacy(user=user, ref=ref)
    if privacy.withheld:
        raise NotAllowed("This journey's data was removed; its notes can no longer be edited.")
    view = next((view for view in journey_notes(journey_id=ref.journey_id) if view.note.id == note_id), None)
    if view is None:
        raise NotVisible("No such note.")
    masker = journey_masker(privacy=privacy, row=ref.row)
    if masked_note(view, masker).note.content != view.note.content:
        raise NotAllowed("This note holds personal data: reveal the journey's personal data to edit it."
                         if privacy.may_reveal else "Your role cannot edit a note that holds personal data.")
    return view


def journey_page(*, user: Viewer, read: JourneyRead, row: Journey | None, notes: NoteQuery | None) -> JourneyPage:
    """Everything the page shows after ``read`` and the mirror write that followed it (``row``), masked for
    ``user``; the notes only with a ``notes`` query (an open page's poll never shows them, so never reads them)."""
    ref, journey = read.ref, read.journey
    privacy = journey_privacy(user=user, ref=ref, row=row)
    masker = journey_masker(privacy=privacy, row=row, journey=journey)
    workflow = _workflow(ref) if journey is not None else None
    labels = _step_labels(workflow)
    live = _live(journey, workflow, labels, masker=masker, fields=privacy.fields) if journey is not None else None
    shown_row = _masked_row(row, masker, withheld=privacy.withheld) if row is not None else None
    summary: models.JourneyDetail | Journey | None = live.journey if live is not None else shown_row
    if summary is None:
        raise NotVisible("No such journey.")
    final = journey.is_final if journey is not None else bool(row and row.is_final)
    waiting = _waiting(journey, labels) if journey is not None else ()
    awaits_end_user = any(step.interactive for step in waiting)
    return JourneyPage(
        journey_id=ref.journey_id,
        row=shown_row,
        unavailable=read.unavailable,
        final=final,
        fingerprint=mirror_fingerprint(row) if row is not None else "",
        header=HeaderPart(summary=summary, log=live.log if live else None,
                          workflow_name=(workflow.name if workflow else "") or (row.workflow_name if row else "")
                          or summary.workflow_id),
        actions=ActionsPart(
            waiting=_with_forms(waiting, workflow),
            may_continue=user_can(user=user, action=Action.CONTINUE, workflow_id=ref.workflow_id),
            may_approve=user_can(user=user, action=Action.APPROVE, workflow_id=ref.workflow_id),
            may_manage=user_can(user=user, action=Action.MANAGE, workflow_id=ref.workflow_id),
            pending_unknown=journey is None and not read.withheld and bool(row and row.pending_steps),
        ),
        live=live,
        share=SharePart(final=final, offered=journey is None or awaits_end_user or journey.status == "idle",
                        may_share=user_can(user=user, action=Action.SHARE, workflow_id=ref.workflow_id)),
        audit=AuditPart(
            events=_masked_events(audit_events_for_journey(user=user, journey_id=ref.journey_id,
                                                           workflow_id=ref.workflow_id), masker),
            may_audit=user_can(user=user, action=Action.AUDIT, workflow_id=ref.workflow_id),
        ),
        privacy=privacy,
        notes=journey_notes_part(user=user, ref=ref, query=notes, labels=labels, privacy=privacy, masker=masker)
        if notes is not None else None,
    )
