"""The access admin: only for those who may manage access; every change audited once; the audit trail read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import Action, ApprovalPolicy, AuditEvent, Scope
from tests.personas import make_user

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def team_form(name: str, *, scopes: list[dict[str, object]]) -> dict[str, object]:
    data: dict[str, object] = {
        "name": name, "scopes-TOTAL_FORMS": str(len(scopes)), "scopes-INITIAL_FORMS": "0",
        "scopes-MIN_NUM_FORMS": "0", "scopes-MAX_NUM_FORMS": "1000",
    }
    for index, scope in enumerate(scopes):
        for key, value in scope.items():
            data[f"scopes-{index}-{key}"] = value
    return data


def test_the_access_admin_is_refused_to_staff_who_may_not_manage_access(admin, approver) -> None:
    approver.is_staff = True
    approver.save()
    for path in ("/admin/auth/group/", "/admin/accounts/scope/", "/admin/auth/user/", "/admin/auth/group/add/",
                 "/admin/accounts/approvalpolicy/", "/admin/accounts/approvalpolicy/add/"):
        assert signed_in(approver).get(path).status_code == 403
        assert signed_in(admin).get(path).status_code == 200


def test_creating_a_team_with_a_scope_records_one_audit_event_with_the_resulting_access(admin) -> None:
    response = signed_in(admin).post("/admin/auth/group/add/", team_form("Reviewers", scopes=[{
        "name": "Contracts", "workflow_tags": "contracts, onboarding", "workflow_ids": "",
        "actions": [Action.VIEW, Action.APPROVE],
    }]))

    assert response.status_code == 302, response.content.decode()[:2000]
    scope = Scope.objects.get(team__name="Reviewers")
    assert scope.workflow_tags == ["contracts", "onboarding"] and scope.actions == [Action.VIEW, Action.APPROVE]
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.actor, event.summary) == (
        "access.team.create", "ok", admin, "Created team Reviewers")
    assert event.detail["state"] == {"name": "Reviewers", "scopes": ["Contracts"]}


def test_a_scope_must_cover_something(admin) -> None:
    response = signed_in(admin).post("/admin/auth/group/add/", team_form("Empty", scopes=[{
        "name": "Nothing", "actions": [Action.VIEW],
    }]))
    assert response.status_code == 200
    assert "must cover all workflows" in response.content.decode()
    assert not Group.objects.filter(name="Empty").exists()
    assert not AuditEvent.objects.exists()


def test_changing_a_users_teams_records_one_event_naming_the_new_teams(admin, outsider) -> None:
    approvers = Group.objects.create(name="Approvers-2")
    response = signed_in(admin).post(f"/admin/auth/user/{outsider.pk}/change/", {
        "username": "outsider", "is_active": "on", "groups": [approvers.pk],
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get()
    assert event.action == "access.user.update"
    assert event.detail["state"]["teams"] == ["Approvers-2"]
    assert not event.detail["state"]["is_superuser"]


def test_an_access_manager_who_is_not_superuser_cannot_grant_superuser_or_edit_a_superuser(admin, outsider) -> None:
    signed_in(admin).post(f"/admin/auth/user/{outsider.pk}/change/", {
        "username": "outsider", "is_active": "on", "is_superuser": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })
    assert not User.objects.get(pk=outsider.pk).is_superuser
    root = User.objects.create_superuser("root", password="x")
    client = signed_in(admin)
    assert client.post(f"/admin/auth/user/{root.pk}/change/", {"username": "taken-over"}).status_code == 403
    assert client.post(f"/admin/auth/user/{root.pk}/password/", {
        "password1": "Canary-Pa55word-7731", "password2": "Canary-Pa55word-7731", "usable_password": "true",
    }).status_code == 403
    assert User.objects.get(pk=root.pk).username == "root"


def test_deleting_scopes_in_bulk_records_one_event_per_scope(admin) -> None:
    team = Group.objects.create(name="Temp")
    scopes = [Scope.objects.create(team=team, name=f"S{i}", all_workflows=True, actions=[Action.VIEW]) for i in (1, 2)]
    response = signed_in(admin).post("/admin/accounts/scope/", {
        "action": "delete_selected", "_selected_action": [scope.pk for scope in scopes], "post": "yes",
    })

    assert response.status_code == 302
    assert not Scope.objects.filter(team=team).exists()
    assert sorted(AuditEvent.objects.values_list("action", "summary")) == [
        ("access.scope.delete", "Deleted scope Temp: S1"), ("access.scope.delete", "Deleted scope Temp: S2")]


def test_a_password_change_is_audited_without_the_password(admin, outsider) -> None:
    response = signed_in(admin).post(f"/admin/auth/user/{outsider.pk}/password/", {
        "password1": "Canary-Pa55word-7731", "password2": "Canary-Pa55word-7731", "usable_password": "true",
    })

    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.action, event.summary) == ("access.user.password", "Changed the password of outsider")
    assert "Canary-Pa55word-7731" not in str(event.detail) + event.summary


def test_the_audit_trail_is_read_only_in_the_admin_even_for_a_superuser(admin) -> None:
    root = User.objects.create_superuser("root", password="x")
    make_user("someone")
    event = AuditEvent.objects.create(at="2026-01-01T00:00:00Z", actor_username="x", action="journey.launch")
    client = signed_in(root)

    assert client.get("/admin/accounts/auditevent/").status_code == 200
    assert client.get(f"/admin/accounts/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"action": "changed"})
    assert AuditEvent.objects.get(pk=event.pk).action == "journey.launch"
    assert signed_in(admin).get("/admin/accounts/auditevent/").status_code == 200


def policy_form(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "Contracts", "workflow_id": "", "workflow_tag": "", "required_approvals": "2",
                               "forbid_self_approval": "on", "sla_hours": ""}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_creating_changing_and_deleting_a_policy_records_one_event_each_with_its_rules(admin) -> None:
    admins = Group.objects.get(name="Admins")
    client = signed_in(admin)
    response = client.post("/admin/accounts/approvalpolicy/add/", policy_form(
        workflow_tag="contracts", sla_hours="12", approver_teams=[admins.pk]))

    assert response.status_code == 302, response.content.decode()[:2000]
    policy = ApprovalPolicy.objects.get(name="Contracts")
    assert (policy.workflow_tag, policy.required_approvals, policy.sla_hours) == ("contracts", 2, 12)
    created = AuditEvent.objects.get()
    assert (created.action, created.actor, created.summary) == (
        "access.policy.create", admin, "Created policy Contracts")
    assert created.detail["state"] == {
        "name": "Contracts", "all_workflows": False, "workflow_id": "", "workflow_tag": "contracts",
        "required_approvals": 2, "forbid_self_approval": True, "sla_hours": 12, "approver_teams": ["Admins"]}

    client.post(f"/admin/accounts/approvalpolicy/{policy.pk}/change/", policy_form(
        workflow_tag="contracts", required_approvals="3"))
    client.post(f"/admin/accounts/approvalpolicy/{policy.pk}/delete/", {"post": "yes"})

    events = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert events == ["access.policy.create", "access.policy.update", "access.policy.delete"]
    changed = AuditEvent.objects.get(action="access.policy.update")
    assert changed.detail["state"]["required_approvals"] == 3 and changed.detail["state"]["approver_teams"] == []
    assert not ApprovalPolicy.objects.filter(name="Contracts").exists()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({}, "workflow_id", "Match every workflow, one workflow id, or one tag."),
    ({"workflow_id": "wf-1", "workflow_tag": "contracts"}, "workflow_tag", "Match only one of"),
    ({"all_workflows": "on", "workflow_id": "wf-1"}, "workflow_id", "Match only one of"),
    ({"workflow_tag": "contracts", "required_approvals": "0"}, "required_approvals", "greater than or equal to 1"),
    ({"workflow_tag": "contracts", "required_approvals": "11"}, "required_approvals", "less than or equal to 10"),
    ({"workflow_tag": "contracts", "sla_hours": "0"}, "sla_hours", "greater than or equal to 1"),
])
def test_a_policy_the_admin_refuses_names_the_field_and_records_nothing(admin, fields, field, message) -> None:
    response = signed_in(admin).post("/admin/accounts/approvalpolicy/add/", policy_form(**fields))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not ApprovalPolicy.objects.filter(name="Contracts").exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("required", [1, 2, 10])
def test_a_policy_asks_for_one_to_ten_approvals(admin, required) -> None:
    response = signed_in(admin).post("/admin/accounts/approvalpolicy/add/", policy_form(
        all_workflows="on", required_approvals=str(required)))
    assert response.status_code == 302
    assert ApprovalPolicy.objects.get(name="Contracts").required_approvals == required


def test_the_database_refuses_a_policy_matching_two_ways_or_asking_too_many_approvals() -> None:
    for fields in ({"workflow_id": "wf", "workflow_tag": "t"}, {}, {"all_workflows": True, "workflow_tag": "t"},
                   {"workflow_tag": "t", "required_approvals": 11}, {"workflow_tag": "t", "required_approvals": 0}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ApprovalPolicy.objects.create(name="Bad", **fields)


def test_a_team_an_approval_policy_names_cannot_be_deleted_so_the_policy_never_opens_to_every_team(admin) -> None:
    legal, spare = Group.objects.create(name="Legal"), Group.objects.create(name="Spare")
    policy = ApprovalPolicy.objects.create(name="Legal signs", workflow_tag="contracts")
    policy.approver_teams.set([legal])
    client = signed_in(admin)

    assert client.post(f"/admin/auth/group/{legal.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post("/admin/auth/group/", {
        "action": "delete_selected", "_selected_action": [legal.pk, spare.pk], "post": "yes"}).status_code == 403
    assert client.post(f"/admin/auth/group/{spare.pk}/delete/", {"post": "yes"}).status_code == 302

    assert list(Group.objects.filter(name__in=["Legal", "Spare"]).values_list("name", flat=True)) == ["Legal"]
    assert list(policy.approver_teams.all()) == [legal]
    changes = AuditEvent.objects.filter(action__startswith="access.")
    assert list(changes.values_list("action", "summary")) == [("access.team.delete", "Deleted team Spare")]
    assert AuditEvent.objects.filter(outcome="refused").count() == 2
