"""Writes for journey notes: add and edit, each with exactly one audit event.

Mint records the portal's API client as every note's author; the audit event (with the note's id) is how
the portal knows which person wrote or edited it (see ``journeys.page.journey_notes``).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from accounts.services import mint_write_audited
from mintportal.mint import get_client, models


def journey_note_create(
    *, actor: AbstractBaseUser, journey_id: str, workflow_id: str, content: str, step_id: str | None = None
) -> models.JourneyNote:
    """Adds a note (at most 1000 characters) to the journey. Raises ``MintError`` when Mint refuses."""
    with mint_write_audited(actor=actor, action="note.create", workflow_id=workflow_id, journey_id=journey_id,
                            detail={"length": len(content)}, failed="Add note refused by Mint") as write:
        note = get_client().create_journey_note(journey_id, content=content, step_id=step_id or None)
        # Never the note's words: a note may hold a customer's name or number, and the audit trail is kept for ever.
        write.ok(f"Added a note ({len(content)} characters)", detail={"note_id": note.id, "length": len(content)})
    return note


def journey_note_update(
    *, actor: AbstractBaseUser, journey_id: str, workflow_id: str, note_id: str, content: str
) -> models.JourneyNote:
    """Replaces a note's content. Raises ``MintError`` when Mint refuses (``MintNotFoundError``: no such note)."""
    with mint_write_audited(actor=actor, action="note.update", workflow_id=workflow_id, journey_id=journey_id,
                            detail={"note_id": note_id, "length": len(content)},
                            failed="Edit note refused by Mint") as write:
        note = get_client().update_journey_note(journey_id, note_id, content=content)
        write.ok(f"Edited a note ({len(content)} characters)")
    return note
