"""The sign-in throttle: lockouts per account and per client address, on both sign-in pages."""

from __future__ import annotations

import io
import logging

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import AuditEvent, SignInThrottle
from accounts.signin import address_key, client_address
from tests.clock import Clock
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
ADMIN_LOGIN = "/admin/login/"
# A password nobody has, distinctive enough to search for in logs and audit events.
WRONG = "Tr0ub4dor&3-wrong-guess"


def sign_in(client: Client, username: str, password: str, *, address: str = "198.51.100.7", page: str = LOGIN):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_it_locks_an_account_after_five_failures_and_refuses_even_the_right_password(
    client: Client, case_handler: User, clock: Clock
) -> None:
    answers = [sign_in(client, "handler", WRONG) for _ in range(5)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 429]
    assert "do not match" in answers[0].content.decode()
    assert "Too many failed sign-ins; try again in 1 minute." in answers[-1].content.decode()
    assert answers[-1]["Retry-After"] == "60"
    right = sign_in(client, "handler", PASSWORD)
    assert right.status_code == 429 and not signed_in(client)
    assert "Too many failed sign-ins; try again in 1 minute." in right.content.decode()


def test_forty_wrong_passwords_get_one_lockout_after_another_instead_of_forty_tries(
    client: Client, case_handler: User, clock: Clock
) -> None:
    statuses = [sign_in(client, "handler", WRONG).status_code for _ in range(40)]

    assert statuses.count(200) == 4 and statuses.count(429) == 36
    assert sign_in(client, "handler", PASSWORD).status_code == 429 and not signed_in(client)


def test_the_lockout_ends_after_its_cool_off(client: Client, case_handler: User, clock: Clock) -> None:
    for _ in range(5):
        sign_in(client, "handler", WRONG)
    clock.advance(59)
    assert sign_in(client, "handler", PASSWORD).status_code == 429
    clock.advance(1)

    assert sign_in(client, "handler", PASSWORD).status_code == 302 and signed_in(client)


def test_the_cool_off_doubles_with_each_lockout_in_a_row_up_to_its_cap(
    client: Client, case_handler: User, clock: Clock, settings
) -> None:
    settings.SIGNIN_MAX_COOLOFF = 5 * 60
    minutes = []
    for _ in range(5):
        for _ in range(4):
            assert sign_in(client, "handler", WRONG).status_code == 200
        locked = sign_in(client, "handler", WRONG)
        assert locked.status_code == 429
        minutes.append(int(locked["Retry-After"]) // 60)
        clock.advance(int(locked["Retry-After"]))

    assert minutes == [1, 2, 4, 5, 5]


def test_a_day_without_a_lockout_starts_the_cool_off_again_at_one_minute(
    client: Client, case_handler: User, clock: Clock
) -> None:
    for _ in range(2):
        for _ in range(5):
            locked = sign_in(client, "handler", WRONG)
        clock.advance(int(locked["Retry-After"]))
    assert locked["Retry-After"] == "120"
    clock.advance(86400)
    for _ in range(5):
        locked = sign_in(client, "handler", WRONG)

    assert locked["Retry-After"] == "60"


def test_a_successful_sign_in_resets_the_account_counter(client: Client, case_handler: User, clock: Clock) -> None:
    for _ in range(4):
        sign_in(client, "handler", WRONG, address="198.51.100.1")
    assert sign_in(client, "handler", PASSWORD, address="198.51.100.1").status_code == 302
    client.logout()

    # Four more failures (from another address, whose own count is separate) do not lock the account.
    statuses = [sign_in(client, "handler", WRONG, address="198.51.100.2").status_code for _ in range(4)]
    assert statuses == [200] * 4
    assert sign_in(client, "handler", PASSWORD, address="198.51.100.2").status_code == 302


def test_failures_from_many_addresses_still_lock_the_account(
    client: Client, case_handler: User, clock: Clock
) -> None:
    for index in range(5):
        sign_in(client, "handler", WRONG, address=f"203.0.113.{index + 1}")

    assert sign_in(client, "handler", PASSWORD, address="203.0.113.99").status_code == 429


def test_one_address_trying_many_accounts_is_locked_out_of_all_of_them(
    client: Client, case_handler: User, operator: User, clock: Clock, settings
) -> None:
    for index in range(settings.SIGNIN_ADDRESS_FAILURE_LIMIT):
        sign_in(client, f"guess{index}", WRONG, address="203.0.113.50")

    assert sign_in(client, "operator", PASSWORD, address="203.0.113.50").status_code == 429
    assert sign_in(client, "operator", PASSWORD, address="203.0.113.51").status_code == 302


def test_one_persons_typos_do_not_lock_out_colleagues_at_the_same_address(
    client: Client, case_handler: User, operator: User, clock: Clock
) -> None:
    # An office behind one address: handler mistypes until locked out; operator still signs in from there.
    for _ in range(6):
        sign_in(client, "handler", WRONG, address="203.0.113.60")

    assert sign_in(client, "handler", PASSWORD, address="203.0.113.60").status_code == 429
    assert sign_in(client, "operator", PASSWORD, address="203.0.113.60").status_code == 302


def test_a_locked_out_administrator_is_let_in_again_from_the_command_line(
    client: Client, admin: User, clock: Clock
) -> None:
    for index in range(30):
        sign_in(client, "admin" if index % 2 else f"guess{index}", WRONG, address="203.0.113.70")
    assert sign_in(client, "admin", PASSWORD, address="203.0.113.70").status_code == 429

    out = io.StringIO()
    call_command("signin_unlock", "admin", "203.0.113.70", stdout=out)

    assert "Lifted 2 lockouts" in out.getvalue()
    assert sign_in(client, "admin", PASSWORD, address="203.0.113.70").status_code == 302
    lifts = AuditEvent.objects.filter(action="signin.lockout_lift")
    assert lifts.count() == 2 and {event.actor_username for event in lifts} == {"system"}


def test_an_unknown_username_is_locked_like_a_real_one(client: Client, clock: Clock) -> None:
    statuses = [sign_in(client, "nobody", WRONG, address=f"203.0.113.{i}").status_code for i in range(6)]

    assert statuses == [200, 200, 200, 200, 429, 429]


def test_the_admin_sign_in_page_is_behind_the_same_throttle(client: Client, admin: User, clock: Clock) -> None:
    for _ in range(3):
        sign_in(client, "admin", WRONG)
    for _ in range(2):
        answer = sign_in(client, "admin", WRONG, page=ADMIN_LOGIN)
    assert answer.status_code == 429
    assert "Too many failed sign-ins; try again in 1 minute." in answer.content.decode()

    answer = sign_in(client, "admin", PASSWORD, page=ADMIN_LOGIN)
    assert answer.status_code == 429 and not signed_in(client)


def test_authenticate_itself_is_behind_the_throttle(case_handler: User, clock: Clock) -> None:
    for _ in range(5):
        assert authenticate(None, username="handler", password=WRONG) is None

    assert authenticate(None, username="handler", password=PASSWORD) is None
    clock.advance(60)
    assert authenticate(None, username="handler", password=PASSWORD) == case_handler


def test_failures_and_lockouts_are_logged_and_audited_without_the_password(
    client: Client, case_handler: User, clock: Clock, caplog: pytest.LogCaptureFixture, settings
) -> None:
    # One limit for both, so that the account and its address lock at the same failure.
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = settings.SIGNIN_FAILURE_LIMIT
    caplog.set_level(logging.INFO)
    for _ in range(6):
        sign_in(client, "handler", WRONG, address="198.51.100.9")

    events = list(AuditEvent.objects.order_by("id"))
    assert [event.action for event in events] == [
        "signin.failed", "signin.failed", "signin.failed", "signin.failed", "signin.failed",
        "signin.lockout", "signin.lockout", "signin.refused",
    ]
    assert {event.actor_id for event in events} == {None}
    assert all(event.detail["username"] == "handler" for event in events)
    assert all(event.detail["address"] == "198.51.100.9" for event in events)
    assert {event.detail["locked"] for event in events if event.action == "signin.lockout"} == {"account", "address"}
    assert events[0].outcome == "failed" and events[-1].outcome == "refused"
    recorded = " ".join(f"{event.summary} {event.detail}" for event in events)
    assert WRONG not in recorded and WRONG not in caplog.text
    assert "sign-in failed for 'handler' from 198.51.100.9" in caplog.text
    assert "sign-in locked for account 'handler'" in caplog.text


def test_an_admin_lifts_a_lockout_and_it_is_audited(client: Client, case_handler: User, admin: User,
                                                     clock: Clock, settings) -> None:
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = settings.SIGNIN_FAILURE_LIMIT
    for _ in range(5):
        sign_in(client, "handler", WRONG)
    admin_client = Client()
    admin_client.force_login(admin)
    locked = admin_client.get("/admin/accounts/signinthrottle/?locked=yes")
    assert locked.status_code == 200 and "handler" in locked.content.decode()

    rows = SignInThrottle.objects.filter(locked_until__gt=clock.now)
    response = admin_client.post("/admin/accounts/signinthrottle/", {
        "action": "lift", "_selected_action": [str(row.pk) for row in rows],
    })

    assert response.status_code == 302
    assert sign_in(client, "handler", PASSWORD).status_code == 302 and signed_in(client)
    lifts = AuditEvent.objects.filter(action="signin.lockout_lift")
    assert lifts.count() == 2 and {event.actor_id for event in lifts} == {admin.pk}


def test_only_who_may_manage_access_sees_or_lifts_lockouts(client: Client, case_handler: User, operator: User,
                                                            clock: Clock) -> None:
    for _ in range(5):
        sign_in(client, "handler", WRONG)
    operator.is_staff = True
    operator.save()
    staff = Client()
    staff.force_login(operator)
    rows = list(SignInThrottle.objects.values_list("pk", flat=True))

    assert staff.get("/admin/accounts/signinthrottle/").status_code == 403
    assert staff.post("/admin/accounts/signinthrottle/", {
        "action": "lift", "_selected_action": [str(pk) for pk in rows]}).status_code == 403
    assert sign_in(client, "handler", PASSWORD).status_code == 429


def test_the_client_address_is_remote_addr_whatever_x_forwarded_for_says(
    client: Client, case_handler: User, clock: Clock, settings
) -> None:
    for index in range(settings.SIGNIN_ADDRESS_FAILURE_LIMIT):
        client.post(LOGIN, {"username": f"user{index}", "password": WRONG}, REMOTE_ADDR="198.51.100.20",
                    HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")

    answer = client.post(LOGIN, {"username": "handler", "password": PASSWORD}, REMOTE_ADDR="198.51.100.20",
                         HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert answer.status_code == 429


def test_a_configured_proxy_header_is_read_from_its_trusted_end(settings) -> None:
    factory = RequestFactory()
    request = factory.post(LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.8")
    assert client_address(request) == "10.0.0.2"

    settings.CLIENT_ADDRESS_HEADER = "HTTP_X_FORWARDED_FOR"
    # The client wrote 1.2.3.4 itself; the proxy appended the address it saw.
    assert client_address(request) == "203.0.113.8"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "1.2.3.4"
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_address(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    forged = factory.post(LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.8, not-an-address")
    assert client_address(forged) == "10.0.0.2"


def test_ipv6_clients_are_counted_by_their_64_network() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:198.51.100.7") == "198.51.100.7"


@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(min_value=0, max_value=400), st.booleans()), min_size=1, max_size=40))
def test_no_lockout_is_ever_skipped_or_overstayed(case_handler: User, clock: Clock, settings,
                                                  steps: list[tuple[int, bool]]) -> None:
    """Whatever the timing and mix of right and wrong passwords (one account, no address):

    - while a lockout announced to a refused attempt lasts, every attempt is refused, the right password too;
    - the limit-th wrong password checked since the window's first one (and since the last sign-in or lockout)
      starts a lockout;
    - every lockout lasts between one minute and the cap.
    """
    SignInThrottle.objects.all().delete()
    limit, window = settings.SIGNIN_FAILURE_LIMIT, settings.SIGNIN_FAILURE_WINDOW
    request_factory = RequestFactory()
    locked_until = None
    checked_failures: list = []
    for wait, right in steps:
        clock.advance(wait)
        request = request_factory.post(LOGIN)
        user = authenticate(request, username="handler", password=PASSWORD if right else WRONG)
        refusal = getattr(request, "signin_refusal", None)
        if locked_until is not None and clock.now < locked_until:
            assert user is None and refusal is not None
            continue
        if user is not None:
            checked_failures = []
            continue
        if refusal is not None and refusal.until > clock.now:
            seconds = (refusal.until - clock.now).total_seconds()
            assert 60 <= seconds <= settings.SIGNIN_MAX_COOLOFF
            locked_until = refusal.until
            checked_failures = []
            continue
        if checked_failures and (clock.now - checked_failures[0]).total_seconds() >= window:
            checked_failures = []
        checked_failures.append(clock.now)
        assert len(checked_failures) < limit


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_slip_past_the_limit(case_handler: User, settings) -> None:
    """Twenty wrong passwords at once: attempts are counted before the slow password check, so at most the
    limit of them are checked at all and the rest are refused."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    # Production's slow hash, so that guesses really overlap while their passwords are checked.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    case_handler.set_password(PASSWORD)
    case_handler.save()

    def guess(index: int) -> bool:
        try:
            request = RequestFactory().post(LOGIN, REMOTE_ADDR=f"203.0.113.{index + 1}")
            authenticate(request, username="handler", password=WRONG)
            return getattr(request, "signin_refusal", None) is not None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(guess, range(20)))

    assert AuditEvent.objects.filter(action="signin.failed").count() <= 5
    assert AuditEvent.objects.filter(action="signin.refused").count() >= 15
    assert authenticate(RequestFactory().post(LOGIN), username="handler", password=PASSWORD) is None


def test_pruning_forgets_only_what_no_longer_counts(client: Client, case_handler: User, clock: Clock) -> None:
    from accounts.tasks import signin_throttles_prune_task

    sign_in(client, "handler", PASSWORD, address="198.51.100.30")
    client.logout()
    sign_in(client, "typo", WRONG, address="198.51.100.31")
    for index in range(5):
        sign_in(client, "mallory", WRONG, address=f"198.51.100.{40 + index}")
    clock.advance(16 * 60)

    # Gone: the sign-in that left nothing counted, and failures whose window has passed. Kept: the lockout.
    assert signin_throttles_prune_task() > 0
    assert set(SignInThrottle.objects.values_list("key", flat=True)) == {"mallory"}
    clock.advance(86400)
    signin_throttles_prune_task()
    assert not SignInThrottle.objects.exists()
