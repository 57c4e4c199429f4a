"""The audit trail's hash chain: every event chained to the one before, and ``audit_verify`` finding the first
deleted or changed event. Runs on the suite's database (SQLite here, PostgreSQL in CI)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.audit_chain import CHAINED_FIELDS, GENESIS
from accounts.models import AuditEvent
from accounts.selectors import audit_chain_verify
from accounts.services import audit_record
from tests.audit_guard import audit_guard_lifted

pytestmark = pytest.mark.django_db

# What JSON (and so an event's detail) can hold on both databases: PostgreSQL refuses NUL in text.
text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
events = st.fixed_dictionaries({
    "action": st.sampled_from(["journey.launch", "journey.approve", "access.user.update", "secret.update"]),
    "outcome": st.sampled_from(AuditEvent.Outcome.values),
    "workflow_id": text.map(lambda value: value[:100]),
    "journey_id": text.map(lambda value: value[:100]),
    "summary": text,
    "detail": st.dictionaries(text, json_values, max_size=5),
    "trace_id": text.map(lambda value: value[:100]),
})


def record(index: int = 0, **fields: object) -> AuditEvent:
    return audit_record(actor=None, action="journey.note", summary=f"Event {index}", **fields)


def change(sql: str, params: list[object]) -> None:
    """Changes the audit table as someone owning the database could, past the append-only triggers."""
    with audit_guard_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify_command() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(events, min_size=1, max_size=4), batch_size=st.integers(min_value=1, max_value=5))
def test_any_events_read_back_from_the_database_still_verify(batch, batch_size, operator) -> None:
    for fields in batch:
        event = audit_record(actor=operator, **fields)
        assert len(event.hash) == 64

    report = audit_chain_verify(batch_size=batch_size)

    assert report.first_break is None, report.first_break
    assert report.events == AuditEvent.objects.count()
    assert report.head == AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()


def test_each_event_carries_the_hash_of_the_one_before() -> None:
    first, second, third = record(1), record(2), record(3)

    assert first.prev_hash == GENESIS
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert len({first.hash, second.hash, third.hash}) == 3


@pytest.mark.parametrize("field", [name for name in CHAINED_FIELDS if name != "actor_id"] + ["actor_id"])
def test_an_edit_of_any_field_is_found_at_the_edited_event(field, operator) -> None:
    record(1)
    edited = audit_record(actor=operator, action="journey.launch", summary="Event 2", workflow_id="wf-1",
                          journey_id="j-1", detail={"rows": 3}, trace_id="t-1")
    record(3)
    new_value = {
        "at": datetime(2020, 1, 1, tzinfo=UTC), "actor_id": operator.pk + 1000, "actor_username": "mallory",
        "action": "journey.view", "outcome": "failed", "workflow_id": "wf-2", "journey_id": "j-2",
        "summary": "Nothing happened", "detail": '{"rows": 4}', "trace_id": "t-2",
    }[field]
    column = AuditEvent._meta.get_field(field).column

    change(f"UPDATE accounts_auditevent SET {column} = %s WHERE id = %s", [new_value, edited.id])

    report = audit_chain_verify()
    assert report.first_break is not None and report.first_break.event_id == edited.id
    assert "changed after it was written" in report.first_break.problem
    assert report.events == 1


def test_a_deleted_event_in_the_middle_is_found_as_a_gap() -> None:
    kept = [record(1), record(2)]
    deleted = record(3)
    after = record(4)
    record(5)

    change("DELETE FROM accounts_auditevent WHERE id = %s", [deleted.id])

    report = audit_chain_verify(batch_size=2)
    assert report.first_break is not None and report.first_break.event_id == after.id
    assert f"does not follow event {kept[-1].id}" in report.first_break.problem
    assert "deleted" in report.first_break.problem


def test_audit_verify_passes_an_intact_chain_and_prints_count_and_time() -> None:
    for index in range(7):
        record(index)

    output = verify_command()

    assert "Checked 7 audit events in" in output and " s; head " in output
    assert "The audit trail is intact." in output


def test_audit_verify_exits_non_zero_naming_the_deleted_or_edited_event() -> None:
    events = [record(index) for index in range(5)]
    change("UPDATE accounts_auditevent SET summary = %s WHERE id = %s", ["Nothing to see", events[3].id])

    with pytest.raises(CommandError, match=f"Chain broken at event {events[3].id}: its content") as broken:
        verify_command()
    assert broken.value.returncode == 1

    change("DELETE FROM accounts_auditevent WHERE id = %s", [events[1].id])
    with pytest.raises(CommandError, match=f"Chain broken at event {events[2].id}: does not follow event "
                                           f"{events[0].id}"):
        verify_command()


def test_audit_verify_fails_when_the_append_only_guard_is_gone() -> None:
    record(1)
    with audit_guard_lifted(connection), pytest.raises(CommandError, match="accepts changes: trigger"):
        verify_command()
    assert "intact" in verify_command()


@pytest.mark.django_db(transaction=True)
def test_writers_appending_at_once_never_fork_the_chain() -> None:
    writers, each = 4, 15
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            barrier.wait(timeout=30)
            for index in range(each):
                record(number * 100 + index, detail={"writer": number})
        except BaseException as exc:  # the test reports what a writer hit
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    report = audit_chain_verify()
    assert report.first_break is None, report.first_break
    assert report.events == writers * each
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes)


@pytest.mark.django_db(transaction=True)
def test_migrating_chains_the_events_written_before_the_chain_in_id_order() -> None:
    call_command("migrate", "accounts", "0003_audit_chain_fields", verbosity=0)
    try:
        # As the table stood before the chain: events with no hashes, unguarded.
        AuditEvent.objects.bulk_create([
            AuditEvent(at=datetime(2026, 1, 1, 12, index, tzinfo=UTC), actor_username="approver",
                       action="journey.approve", summary=f"Old event {index}", detail={"n": index, "x": 1.5})
            for index in range(7)
        ])
    finally:
        # Every app: going back unapplied the other apps' migrations that depend on accounts' later ones too.
        call_command("migrate", verbosity=0)

    events = list(AuditEvent.objects.order_by("id"))
    assert events[0].prev_hash == GENESIS and all(len(event.hash) == 64 for event in events)
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]
    assert audit_chain_verify(batch_size=3).first_break is None
    assert record(8).prev_hash == events[-1].hash
