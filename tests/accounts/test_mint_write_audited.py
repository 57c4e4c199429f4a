"""accounts.services.mint_write_audited: every write to Mint is audited exactly once, whichever way it ends."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from accounts.models import AuditEvent
from accounts.services import mint_write_audited
from mintportal.mint import errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def user() -> User:
    return User.objects.create_user("writer", password="x")


def test_a_refusal_is_audited_as_failed_with_mints_trace_id_and_raised_unchanged(user: User) -> None:
    refusal = errors.MintConflictError("changed meanwhile", status=409, code="conflict", trace_id="trace-1")

    with pytest.raises(errors.MintConflictError) as raised, mint_write_audited(
        actor=user, action="thing.update", workflow_id="wf", journey_id="j", detail={"field": 1},
        failed="Update refused by Mint",
    ):
        raise refusal

    assert raised.value is refusal
    [event] = AuditEvent.objects.all()
    assert (event.action, event.outcome, event.summary, event.detail, event.trace_id, event.journey_id) == (
        "thing.update", "failed", "Update refused by Mint", {"field": 1}, "trace-1", "j")


def test_an_unconfirmed_write_is_audited_as_unknown_and_may_name_mints_status(user: User) -> None:
    with pytest.raises(errors.MintOutcomeUnknownError), mint_write_audited(
        actor=user, action="thing.update", detail={"field": 1}, with_mint_status=True,
        failed=lambda exc: f"Not confirmed: {exc.message}",
    ):
        raise errors.MintOutcomeUnknownError("read timeout", status=None, trace_id="trace-2")

    [event] = AuditEvent.objects.all()
    assert (event.outcome, event.summary, event.detail) == (
        "unknown", "Not confirmed: read timeout", {"field": 1, "status": None, "code": None})


def test_a_success_is_recorded_once_and_a_later_failure_in_the_block_records_nothing_more(user: User) -> None:
    with pytest.raises(errors.MintServerError), mint_write_audited(
        actor=user, action="thing.create", detail={"field": 1}, failed="Create refused by Mint",
    ) as write:
        write.ok("Created the thing", workflow_id="wf-new", detail={"id": "t-1"})
        raise errors.MintServerError("later", status=503)

    [event] = AuditEvent.objects.all()
    assert (event.outcome, event.summary, event.workflow_id, event.detail) == (
        "ok", "Created the thing", "wf-new", {"id": "t-1"})
