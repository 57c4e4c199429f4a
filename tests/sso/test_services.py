"""Who a verified sign-in becomes: user creation, collisions with local accounts, team refresh, audit."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from sso.models import ClaimMapping, SsoIdentity
from sso.services import SsoRefused, sso_user_sign_in

ISSUER = "https://id.example.com"
pytestmark = pytest.mark.django_db


def claims(sub: str = "sub-1", **extra: object) -> dict[str, object]:
    return {"iss": ISSUER, "sub": sub, "aud": "portal", **extra}


def test_it_creates_a_user_on_first_sign_in_without_a_usable_password() -> None:
    result = sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari", email="kari@example.com",
                                                           name="Kari Nordmann"))
    assert result.created
    user = User.objects.get(username="kari")
    assert not user.has_usable_password()
    assert (user.email, user.first_name) == ("kari@example.com", "Kari Nordmann")
    assert SsoIdentity.objects.get(user=user).subject == "sub-1"


def test_it_finds_the_same_user_by_subject_when_their_name_changes() -> None:
    first = sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari")).user
    again = sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari.married", email="k@x.example"))
    assert again.user == first
    assert not again.created
    assert User.objects.get(pk=first.pk).email == "k@x.example"


def test_the_same_subject_at_another_issuer_is_another_person() -> None:
    first = sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari")).user
    other = sso_user_sign_in(issuer="https://other.example.com", claims=claims(preferred_username="kari")).user
    assert other != first


@pytest.mark.parametrize("name", ["admin", "ADMIN", "Admin"])
def test_it_never_takes_over_a_local_account_with_the_same_username(name: str) -> None:
    local = User.objects.create_user("admin", password="local-password-1")
    local.groups.add(Group.objects.create(name="Local team"))
    result = sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username=name))
    assert result.user != local
    assert result.user.username == f"{name}-sso"
    assert result.renamed_from == name
    local.refresh_from_db()
    assert local.check_password("local-password-1")
    assert [team.name for team in local.groups.all()] == ["Local team"]
    assert not SsoIdentity.objects.filter(user=local).exists()


def test_it_counts_up_the_suffix_while_names_are_taken() -> None:
    User.objects.create_user("kari")
    User.objects.create_user("kari-sso")
    assert sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari")).user.username == "kari-sso2"


def test_it_falls_back_to_the_email_then_to_a_name_made_from_the_subject() -> None:
    by_email = sso_user_sign_in(issuer=ISSUER, claims=claims("a", email="ola@example.com"))
    assert by_email.user.username == "ola@example.com"
    by_subject = sso_user_sign_in(issuer=ISSUER, claims=claims("b", preferred_username="  ", email=None))
    assert by_subject.user.username.startswith("sso-")
    assert len(by_subject.user.username) == 20


def test_it_keeps_only_the_characters_django_allows_in_a_username() -> None:
    result = sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="Kari Nordmann <k/x>"))
    assert result.user.username == "KariNordmannkx"


@pytest.fixture
def teams() -> dict[str, Group]:
    names = ["Handlers", "Approvers", "Operators", "Manual"]
    made = {name: Group.objects.create(name=name) for name in names}
    ClaimMapping.objects.create(claim_value="handlers", team=made["Handlers"])
    ClaimMapping.objects.create(claim_value="approvers", team=made["Approvers"])
    # Two claim values may grant the same team.
    ClaimMapping.objects.create(claim_value="ops", team=made["Operators"])
    ClaimMapping.objects.create(claim_value="operations", team=made["Operators"])
    return made


def team_names(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.sets(st.sampled_from(["handlers", "approvers", "ops", "operations", "unmapped"])),
                       min_size=1, max_size=4),
       manual=st.booleans())
def test_mapped_teams_become_exactly_what_the_claim_grants_at_every_sign_in(
        teams: dict[str, Group], rounds: list[set[str]], manual: bool) -> None:
    grants = {"handlers": "Handlers", "approvers": "Approvers", "ops": "Operators", "operations": "Operators"}
    subject = f"sub-{uuid.uuid4().hex}"
    user = sso_user_sign_in(issuer=ISSUER, claims=claims(subject, groups=[])).user
    if manual:
        # An admin put the user in a team no claim value maps to: sign-in must leave it alone.
        user.groups.add(teams["Manual"])
    for values in rounds:
        sso_user_sign_in(issuer=ISSUER, claims=claims(subject, groups=sorted(values)))
        expected = {grants[value] for value in values if value in grants} | ({"Manual"} if manual else set())
        assert team_names(user) == expected


def test_it_reads_a_single_string_and_a_nested_claim(settings, teams: dict[str, Group]) -> None:
    user = sso_user_sign_in(issuer=ISSUER, claims=claims(groups="handlers")).user
    assert team_names(user) == {"Handlers"}
    settings.OIDC_GROUPS_CLAIM = "realm_access.roles"
    sso_user_sign_in(issuer=ISSUER, claims=claims(groups="handlers", realm_access={"roles": ["approvers"]}))
    assert team_names(user) == {"Approvers"}


def test_it_turns_off_a_local_password_an_admin_gave_an_sso_user() -> None:
    user = sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari")).user
    user.set_password("set-by-an-admin-1")
    user.save()
    sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari"))
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_it_refuses_a_disabled_account_and_changes_nothing(teams: dict[str, Group]) -> None:
    user = sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari", groups=["handlers"])).user
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(SsoRefused) as refused:
        sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari", groups=["approvers"]))
    assert refused.value.reason == "account_disabled"
    assert team_names(user) == {"Handlers"}


def test_it_audits_each_sign_in_with_the_teams_it_changed(teams: dict[str, Group]) -> None:
    sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari", groups=["handlers"]))
    sso_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="kari", groups=["approvers"]))
    events = list(AuditEvent.objects.filter(action="sso.sign_in").order_by("id"))
    assert [(event.actor_username, event.outcome) for event in events] == [("kari", "ok"), ("kari", "ok")]
    assert events[0].detail["created"] is True
    assert (events[1].detail["teams_added"], events[1].detail["teams_removed"]) == (["Approvers"], ["Handlers"])
    access = AuditEvent.objects.filter(action__startswith="access.user.").order_by("id")
    assert [event.action for event in access] == ["access.user.create", "access.user.update"]
    assert access.last().detail["state"]["teams"] == ["Approvers"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(preferred=st.one_of(st.none(), st.text(max_size=200)), email=st.one_of(st.none(), st.emails(), st.text()),
       local_name=st.sampled_from(["kari", "Kari", "kari@example.com", "sso-x", "a" * 150]))
def test_no_claims_ever_sign_in_as_or_change_a_local_account(preferred: str | None, email: str | None,
                                                              local_name: str) -> None:
    local, _ = User.objects.get_or_create(username=local_name)
    local.set_password("local-password-1")
    local.save()
    result = sso_user_sign_in(issuer=ISSUER, claims=claims(f"sub-{uuid.uuid4().hex}", preferred_username=preferred,
                                                           email=email))
    assert result.user.pk != local.pk
    assert len(result.user.username) <= 150
    result.user.full_clean(exclude=["password"])
    local.refresh_from_db()
    assert local.check_password("local-password-1")
    assert not SsoIdentity.objects.filter(user=local).exists()


@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_of_one_person_at_once_make_one_user() -> None:
    for round_ in range(5):
        barrier = Barrier(2)
        subject = f"racer-{round_}"

        def sign_in(barrier: Barrier = barrier, subject: str = subject) -> int:
            try:
                barrier.wait(timeout=10)
                return sso_user_sign_in(issuer=ISSUER, claims=claims(subject, preferred_username=subject)).user.pk
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            users = [future.result(timeout=30) for future in [pool.submit(sign_in), pool.submit(sign_in)]]
        assert users[0] == users[1]
        assert SsoIdentity.objects.filter(subject=subject).count() == 1
        assert User.objects.filter(username__startswith=subject).count() == 1
