"""The audit table is append-only in the database: no UPDATE, DELETE or TRUNCATE, by the ORM, raw SQL, the admin,
or the deletion of a user whose events it holds."""

from __future__ import annotations

import os
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.test import Client

from accounts.audit_chain import GUARD_TRIGGERS
from accounts.models import AuditEvent
from accounts.selectors import audit_chain_verify, audit_guard_missing
from accounts.services import audit_record
from tests.personas import make_user

pytestmark = pytest.mark.django_db


def refused(statement) -> None:
    """Runs ``statement`` and asserts the database refused it as an append-only violation."""
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        statement()


def snapshot() -> list[tuple]:
    fields = [field.attname for field in AuditEvent._meta.concrete_fields]
    return list(AuditEvent.objects.order_by("id").values_list(*fields))


def test_the_append_only_triggers_are_in_force_after_migrating() -> None:
    assert connection.vendor in GUARD_TRIGGERS
    assert audit_guard_missing() == []


def test_the_database_refuses_to_change_or_delete_an_event(admin) -> None:
    event = audit_record(actor=admin, action="secret.update", summary="Updated secret api-key")
    events = AuditEvent.objects.filter(pk=event.pk)

    refused(lambda: events.update(summary="Nothing happened"))
    refused(lambda: events.delete())
    refused(lambda: AuditEvent.objects.all().delete())
    event.outcome = AuditEvent.Outcome.FAILED
    refused(lambda: event.save())

    def raw(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])

    refused(lambda: raw("UPDATE accounts_auditevent SET actor_username = 'nobody' WHERE id = %s"))
    refused(lambda: raw("DELETE FROM accounts_auditevent WHERE id = %s"))
    assert AuditEvent.objects.get(pk=event.pk).summary == "Updated secret api-key"
    assert audit_chain_verify().first_break is None


def test_postgresql_refuses_truncate_even_to_a_superuser(postgresql: None) -> None:
    audit_record(actor=None, action="journey.note", summary="kept")

    def truncate() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE accounts_auditevent")

    refused(truncate)
    assert AuditEvent.objects.count() == 1


def test_the_application_role_holds_no_update_delete_or_truncate_and_the_trigger_holds_if_it_grants_them_back(
    postgresql: None,
) -> None:
    """The migration's REVOKE, replayed for a role that owns the table as the portal's own role would."""
    from importlib import import_module

    guard = import_module("accounts.migrations.0005_audit_append_only")
    role = f"audit_app_{uuid.uuid4().hex[:8]}"
    event = audit_record(actor=None, action="journey.note", summary="kept")
    with connection.cursor() as cursor:
        # All of it rolls back with the test's transaction, the role included.
        cursor.execute(f"CREATE ROLE {role} NOSUPERUSER")
        cursor.execute(f"ALTER TABLE accounts_auditevent OWNER TO {role}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(f"SET ROLE {role}")
        cursor.execute(guard.POSTGRESQL_GUARD[-1])
        for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
            cursor.execute("SELECT has_table_privilege(current_user, 'accounts_auditevent', %s)", [privilege])
            assert cursor.fetchone() == (False,), privilege
        cursor.execute("SELECT has_table_privilege(current_user, 'accounts_auditevent', 'INSERT')")
        assert cursor.fetchone() == (True,)
        # As owner it may grant them back; the trigger still refuses.
        cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON accounts_auditevent TO {role}")

    def raw(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])

    refused(lambda: raw("UPDATE accounts_auditevent SET summary = 'gone' WHERE id = %s"))
    refused(lambda: raw("DELETE FROM accounts_auditevent WHERE id = %s"))
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


@pytest.mark.parametrize("how", ["admin", "orm"])
def test_deleting_a_user_leaves_their_events_unchanged_and_the_chain_intact(how, admin) -> None:
    leaver = make_user(f"leaver-{how}", "Approvers")
    leaver_id = leaver.pk
    audit_record(actor=leaver, action="journey.approve", journey_id="j-1", summary="Approved step check")
    audit_record(actor=leaver, action="note.create", journey_id="j-1", summary="Added a note")
    before = snapshot()

    if how == "admin":
        client = Client()
        client.force_login(admin)
        response = client.post(f"/admin/auth/user/{leaver.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        page = client.get(f"/admin/accounts/auditevent/{before[0][0]}/change/")
        assert page.status_code == 200 and leaver.username in page.content.decode()
    else:
        leaver.delete()

    assert not User.objects.filter(pk=leaver_id).exists()
    # The admin records the deletion itself as one more event; the earlier ones are as they were.
    assert snapshot()[:len(before)] == before
    leavers = AuditEvent.objects.filter(actor_username=leaver.username, actor_id=leaver_id)
    assert leavers.count() == 2
    report = audit_chain_verify()
    assert report.first_break is None and report.events == AuditEvent.objects.count()


def test_the_admin_shows_an_event_with_its_hashes_and_offers_no_change_or_delete(django_user_model) -> None:
    superuser = django_user_model.objects.create_superuser("root-auditor", password=os.urandom(8).hex())
    event = audit_record(actor=superuser, action="secret.update", summary="Updated secret api-key")
    client = Client()
    client.force_login(superuser)

    page = client.get(f"/admin/accounts/auditevent/{event.pk}/change/").content.decode()
    client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"summary": "Nothing happened"})

    assert event.hash in page and event.prev_hash in page
    assert 'name="_save"' not in page and "/delete/" not in page
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post("/admin/accounts/auditevent/", {"action": "delete_selected",
                                                       "_selected_action": [event.pk]}).status_code in (200, 302)
    # The event is as it was; what was tried is on record after it, as refused.
    assert snapshot()[:1] == [tuple(getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields)]
    tried = AuditEvent.objects.filter(pk__gt=event.pk)
    assert tried.exists() and set(tried.values_list("outcome", flat=True)) == {"refused"}
