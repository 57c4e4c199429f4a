"""The case file's record (``compliance.casefile.CaseFile``) of one journey, as one person may see it.

A selector: it reads Mint live (the journey, its execution log, notes and files, each file downloaded to hash it),
the mirror row, the approval decisions and votes, and the portal's audit events, and writes nothing. What the
record shows is what the journey's page shows its reader: the same visibility check (``journeys.page.journey_read``:
a journey outside their view scope is ``NotVisible``, a 404), and the same masking (``journeys.page.journey_masker``
over the mirror's markers and the live values, revealed only while the reader holds a reveal). Every string that
can carry a journey's words passes the masker; portal usernames, ids, actions and times do not (they are the
portal's own). Once retention or an erasure request removed the journey's data, nothing is read from Mint for a
reader who may not reveal it, as on the page.

Times are written in the active time zone (the reader's, activated by the middleware or by the batch task), as
``2026-12-03 10:00:00 UTC``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from accounts.selectors import audit_events_for_journey
from approvals.models import ApprovalVote, Decision
from compliance.casefile import (
    CaseAudit,
    CaseDecision,
    CaseFile,
    CaseFileEntry,
    CaseNote,
    CaseStep,
    TimelineEntry,
)
from journeys import page
from journeys.models import Journey, JourneyStatus
from launches.models import Launch
from mintportal.errors import NotVisible
from mintportal.mint import errors, get_client, models
from mintportal.templatetags.portal import zone_description, zone_label
from privacy.masking import Masker, pseudonymise
from privacy.selectors import retention_days
from workflows.selectors import workflow_get

__all__ = ["MAX_HASHED_BYTES", "casefile_for", "format_time"]

logger = logging.getLogger(__name__)

# A file larger than this is listed with its size but not downloaded to hash it (decimal megabytes, as the PDF
# prints sizes).
MAX_HASHED_BYTES: Final = 25 * 1000 * 1000
NOT_HASHED_LARGE: Final = "not hashed: larger than 25 MB"
# Every audit event about the journey, not only the page's latest hundred.
AUDIT_LIMIT: Final = 10_000
WITHHELD_TEXT: Final = "(not shown: the journey's data was removed, and this text may quote it)"
_LEVELS: Final = {"StepFaulted": "error", "StepCancelled": "warning"}

Viewer = AbstractBaseUser | AnonymousUser


def format_time(moment: datetime | None) -> str:
    """``moment`` in the active time zone with the zone's abbreviation: ``2026-12-03 11:00:00 CET``."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M:%S} {zone_label(local)}"


@dataclass(frozen=True)
class _Reading:
    """What one case file is drawn from: the live journey (None when its data is withheld) and the mirror row."""

    ref: page.JourneyRef
    journey: models.JourneyDetail | None
    row: Journey | None
    privacy: page.PrivacyPart
    masker: Masker
    workflow: models.WorkflowDefinition | None

    @property
    def labels(self) -> dict[str, str]:
        if self.workflow is None:
            return {}
        return {step.id: step.display_name or step.name or step.id for step in self.workflow.steps}

    def label(self, step_id: str | None) -> str:
        return self.labels.get(step_id, step_id) if step_id else ""

    def text(self, value: str | None) -> str:
        return self.masker.text(value or "")

    def portal_text(self, value: str | None) -> str:
        """Free text of the portal's own records (decision reasons, audit summaries), masked; once the journey's
        data was removed its markers are gone, so nothing could mask a name in such a text: it is withheld then
        unless the reader revealed the journey."""
        if not value:
            return ""
        if self.row is not None and self.row.data_removed_at is not None and not self.masker.revealed:
            return WITHHELD_TEXT
        return self.text(value)

    def tree(self, tree: dict[str, Any]) -> dict[str, Any]:
        """A data tree as the reader sees it: as Mint gave it when revealed, else every declared leaf as its mask
        and every other string masked as text (the journey page's rule)."""
        if self.masker.revealed:
            return tree
        shown = self.masker.data(pseudonymise(tree, self.privacy.fields))
        return shown if isinstance(shown, dict) else {}


def casefile_for(*, user: Viewer, journey_id: str) -> CaseFile:
    """The case file of ``journey_id`` as ``user`` may see it, generated now by them.

    Raises ``NotVisible`` for a journey outside their view scope (or unknown), and the ``MintError`` when Mint cannot
    give the journey, its log or its notes: a case file with a section silently missing would misstate the record.
    """
    read = page.journey_read(user=user, journey_id=journey_id)
    if read.unavailable is not None:
        raise read.unavailable
    ref, journey = read.ref, read.journey
    privacy = page.journey_privacy(user=user, ref=ref)
    reading = _Reading(ref=ref, journey=journey, row=ref.row, privacy=privacy,
                       masker=page.journey_masker(privacy=privacy, row=ref.row, journey=journey),
                       workflow=_workflow(ref) if journey is not None else None)
    log = _log(journey.id) if journey is not None else None
    summary: models.JourneyDetail | Journey | None = journey or ref.row
    if summary is None:  # journey_read gives a live journey or a mirror row; never neither
        raise NotVisible("No such journey.")
    shown = reading.tree({"input": dict(journey.input), "steps": dict(journey.step_data)}) if journey else {}
    return CaseFile(
        journey_id=ref.journey_id,
        journey_name=reading.text(summary.name) or ref.journey_id,
        workflow_name=reading.text((reading.workflow.name if reading.workflow else "")
                                   or (ref.row.workflow_name if ref.row else "")) or ref.workflow_id,
        workflow_id=ref.workflow_id,
        version=str(ref.version),
        status=_status(summary.status),
        created_at=format_time(summary.created_at),
        finished_at=format_time(summary.finished_at) or None,
        facts=_facts(reading, summary, log),
        input=list(_flatten(shown["input"])) if shown.get("input") else [],
        steps=_steps(reading, shown.get("steps", {}), log),
        timeline=_timeline(reading, log),
        alerts=[TimelineEntry(at=format_time(alert.timestamp), level=alert.severity, step=reading.label(alert.step_id),
                              message=reading.text(alert.message)) for alert in journey.alerts] if journey else [],
        files=[_file(reading, journey.id, file) for file in journey.files] if journey else [],
        notes=_notes(reading) if journey else [],
        decisions=_decisions(reading),
        audit=[CaseAudit(at=format_time(event.at), actor=event.actor_username, action=event.action,
                         outcome=event.outcome, summary=reading.portal_text(event.summary))
               for event in reversed(audit_events_for_journey(user=user, journey_id=ref.journey_id,
                                                              workflow_id=ref.workflow_id, limit=AUDIT_LIMIT))],
        masking=_masking(reading),
        retention_note=_retention(reading, summary, withheld=read.withheld),
        generated_at=format_time(timezone.now()),
        generated_by=user.get_username(),
    )


# --- reads from Mint -----------------------------------------------------------------------------------------


def _workflow(ref: page.JourneyRef) -> models.WorkflowDefinition | None:
    try:
        return workflow_get(workflow_id=ref.workflow_id, version=ref.version)
    except errors.MintError as exc:
        # Step titles then fall back to the step ids; nothing of the record is lost.
        logger.warning("case file %s: no workflow definition: %s trace_id=%s", ref.journey_id, type(exc).__name__,
                       exc.trace_id or "-")
        return None


def _log(journey_id: str) -> models.JourneyLog | None:
    try:
        return get_client().get_journey_log(journey_id)
    except errors.MintNotFoundError:
        # A journey that has not run a step has no log yet.
        return None


def _file(reading: _Reading, journey_id: str, file: models.JourneyFile) -> CaseFileEntry:
    name = reading.text(file.filename)
    if file.size is not None and file.size > MAX_HASHED_BYTES:
        return CaseFileEntry(name=name, size_bytes=file.size, sha256=NOT_HASHED_LARGE, content_type=file.content_type)
    try:
        content = get_client().download_journey_file(journey_id, file.id).content
    except errors.MintError as exc:
        return CaseFileEntry(name=name, size_bytes=file.size or 0, content_type=file.content_type,
                             sha256=f"not hashed: Mint could not give the file ({type(exc).__name__})")
    if len(content) > MAX_HASHED_BYTES:
        return CaseFileEntry(name=name, size_bytes=len(content), sha256=NOT_HASHED_LARGE,
                             content_type=file.content_type)
    return CaseFileEntry(name=name, size_bytes=len(content), sha256=hashlib.sha256(content).hexdigest(),
                         content_type=file.content_type)


def _notes(reading: _Reading) -> list[CaseNote]:
    """Oldest first, as a record reads; an edited note says when and by whom."""
    views = sorted(page.journey_notes(journey_id=reading.ref.journey_id),
                   key=lambda view: (view.note.created_at or timezone.now(), view.note.id))
    notes = []
    for view in views:
        text = reading.text(view.note.content)
        if view.note.updated_at and view.note.updated_at != view.note.created_at:
            editor = f" by {view.edited_by}" if view.edited_by else ""
            text += f"\n(Edited {format_time(view.note.updated_at)}{editor}.)"
        notes.append(CaseNote(at=format_time(view.note.created_at), author=view.author,
                              step=reading.label(view.note.step_id), text=text))
    return notes


# --- sections ------------------------------------------------------------------------------------------------


def _status(status: str) -> str:
    try:
        return str(JourneyStatus(status).label)
    except ValueError:
        return status.capitalize()


def _started_by(journey_id: str) -> str:
    launch = (Launch.objects.filter(journey_id=journey_id).select_related("created_by").order_by("created_at")
              .first())
    if launch is None:
        return "Not started from the portal"
    who = launch.created_by.get_username() if launch.created_by else "a person whose account was deleted"
    return f"{who}, from the portal, {format_time(launch.created_at)}"


def _facts(reading: _Reading, summary: models.JourneyDetail | Journey,
           log: models.JourneyLog | None) -> list[tuple[str, str]]:
    facts = [("Started by", _started_by(reading.ref.journey_id)),
             ("Last activity", format_time(summary.last_executed_at) or "None")]
    if summary.faulted_at:
        facts.append(("Faulted", format_time(summary.faulted_at)))
    if summary.cancelled_at:
        facts.append(("Cancelled", format_time(summary.cancelled_at)))
    journey = reading.journey
    if journey is not None and journey.active_steps:
        facts.append(("Waiting at", ", ".join(f"{reading.label(step.step_id)} ({step.step_type})"
                                              for step in journey.active_steps)))
    if log is not None:
        facts.append(("Steps", f"{log.steps_finished} finished, {log.steps_faulted} faulted"))
    row = reading.row
    if row is not None:
        facts.append(("Portal's copy", f"status {_status(row.status).lower()}, last seen {format_time(row.seen_at)}"))
    now = timezone.localtime()
    facts.append(("Source", "Read live from Mint when generated" if journey is not None
                  else "The portal's copy only: the journey's data was removed and is not read from Mint"))
    facts.append(("Times shown in", zone_description(now)))
    return facts


def _flatten(tree: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, value) of each leaf, in the data's own order; an empty object or list is one row."""
    if isinstance(tree, dict) and tree:
        for key, value in tree.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, list) and tree:
        for index, value in enumerate(tree):
            yield from _flatten(value, f"{prefix}[{index}]")
    else:
        yield prefix or "(value)", _value(tree)


def _value(leaf: Any) -> str:
    if isinstance(leaf, str):
        return leaf
    if leaf is None:
        return "(empty)"
    return json.dumps(leaf, ensure_ascii=False)


def _log_status(step: models.JourneyLogStep) -> str:
    status = step.status
    if isinstance(status, models.JourneyLogStepStatus):
        word = status.name or ""
        return f"{word}: {status.outcome}" if status.outcome else word
    return str(status or "")


def _steps(reading: _Reading, shown: dict[str, Any], log: models.JourneyLog | None) -> list[CaseStep]:
    """The steps in the order they ran (the log's), then any step with data the log does not list."""
    ran: dict[str, str] = {}
    for step in log.steps if log else []:
        ran[step.step_id] = _log_status(step)
    loops = reading.journey.loops if reading.journey is not None else {}
    order = [*ran, *(step_id for step_id in shown if step_id not in ran)]
    order += [step_id for step_id in loops if step_id not in order]
    steps = []
    for step_id in order:
        rows = list(_flatten(shown[step_id])) if step_id in shown and shown[step_id] not in ({}, None) else []
        for iteration in loops.get(step_id, []):
            data = reading.tree({"steps": dict(iteration.step_data)}).get("steps", {})
            rows += [(f"iteration {iteration.index + 1} · {path}", value) for path, value in _flatten(data)]
        steps.append(CaseStep(step_id=step_id, title=reading.text(reading.label(step_id)),
                              status=ran.get(step_id, "no log entry"), rows=rows))
    return steps


def _timeline(reading: _Reading, log: models.JourneyLog | None) -> list[TimelineEntry]:
    entries: list[tuple[datetime | None, int, TimelineEntry]] = []
    for step in log.steps if log else []:
        for event in step.events:
            entries.append((event.timestamp, len(entries), TimelineEntry(
                at=format_time(event.timestamp), level=_LEVELS.get(event.event_name or "", "info"),
                step=reading.label(step.step_id), message=reading.text(event.message or event.event_name))))
    # Chronological; events without a time keep their place after the timed ones.
    entries.sort(key=lambda entry: (entry[0] is None, entry[0] or timezone.now(), entry[1]))
    return [entry for _, _, entry in entries]


def _decisions(reading: _Reading) -> list[CaseDecision]:
    """Each approver's vote (four-eyes steps) and each decision sent to Mint, oldest first."""
    journey_id = reading.ref.journey_id
    found: list[tuple[datetime, int, CaseDecision]] = []

    def step_name(step_id: str, occurrence: int) -> str:
        label = reading.text(reading.label(step_id))
        return f"{label} (visit {occurrence})" if occurrence > 1 else label

    for vote in ApprovalVote.objects.filter(journey_id=journey_id).order_by("at", "id"):
        found.append((vote.at, 0, CaseDecision(
            at=format_time(vote.at), approver=vote.username, verdict="Vote: approve",
            reason=reading.portal_text(vote.reason) or "(no reason given)",
            step=step_name(vote.step_id, vote.occurrence))))
    for decision in Decision.objects.filter(journey_id=journey_id).order_by("decided_at", "id"):
        verdict = "Approved" if decision.approved else "Rejected"
        if decision.status == Decision.Status.PENDING:
            verdict += " (being sent to Mint)"
        found.append((decision.decided_at, 1, CaseDecision(
            at=format_time(decision.decided_at), approver=decision.decided_by_username, verdict=verdict,
            reason=reading.portal_text(decision.reason) or "(no reason given)",
            step=step_name(decision.step_id, decision.occurrence))))
    found.sort(key=lambda item: (item[0], item[1]))
    return [decision for _, _, decision in found]


def _masking(reading: _Reading) -> str:
    privacy = reading.privacy
    grant = privacy.grant
    if grant is not None:
        return (f"Personal data shown in clear: revealed by {grant.user.get_username()} at "
                f"{format_time(grant.granted_at)}, reason: {grant.reason}. The reveal ends at "
                f"{format_time(grant.expires_at)}.")
    count = len(privacy.fields)
    if not count:
        return ("Personal data masked: no fields are declared personal for this workflow version; identifiers "
                "recognised by their format (national ids, e-mail addresses, phone numbers, IBANs) are masked.")
    why = ("the reader has not revealed this journey's data" if privacy.may_reveal
           else "the reader has no reveal right")
    return (f"Personal data masked: {count} declared field{'s' if count != 1 else ''} ({why}); identifiers "
            f"recognised by their format are masked too.")


def _retention(reading: _Reading, summary: models.JourneyDetail | Journey, *, withheld: bool) -> str:
    row = reading.row
    if row is not None and row.data_removed_at is not None:
        by = "an erasure request" if row.data_removed_by == "erasure" else "retention"
        note = f"Input and step data removed by {by} on {format_time(row.data_removed_at)}."
        if withheld:
            note += (" The reader may not reveal personal data, so nothing of the journey was read from Mint: "
                     "input, steps, timeline, alerts, files and notes are not shown.")
        if not reading.masker.revealed:
            note += " Decision reasons and audit summaries are not shown: nothing is left to mask them by."
        return note
    days = retention_days(workflow_id=reading.ref.workflow_id)
    ended = summary.finished_at or summary.cancelled_at or summary.faulted_at
    if ended is None:
        return f"Input and step data will be removed by retention {days} days after the journey ends."
    return (f"Input and step data will be removed by retention {days} days after the journey ended, on or after "
            f"{format_time(ended + timedelta(days=days))}.")
