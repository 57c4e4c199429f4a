"""The sign-in throttle: failed passwords are counted per account and per client address, and too many lock.

Every password check goes through ``ThrottledModelBackend`` (the only authentication backend for passwords),
so the portal's sign-in page, the admin's and any ``authenticate()`` call are covered alike:

- ``SIGNIN_FAILURE_LIMIT`` failures (default 5) of one username tried, or ``SIGNIN_ADDRESS_FAILURE_LIMIT``
  (default the same) from one client address, within
  ``SIGNIN_FAILURE_WINDOW`` seconds (default 15 minutes) lock it for a cool-off of 1 minute, then 2, 4, 8...
  for each lockout in a row, at most ``SIGNIN_MAX_COOLOFF`` seconds. A day without a lockout starts again at
  1 minute; so does a successful sign-in of the account.
- While locked, every attempt is refused before the password is checked, even the right password, with
  "Too many failed sign-ins; try again in N minutes" and HTTP 429 with ``Retry-After``.
- Attempts are counted before the password is checked (and given back on success), so that parallel guesses
  cannot slip past the limit while the slow password hash runs.
- Each failure, refusal and lockout is logged and audited with the username tried and the client address,
  never the password. Admins with ``manage_access`` lift lockouts in the admin (audited).

The client address is ``REMOTE_ADDR`` unless ``CLIENT_ADDRESS_HEADER`` names a header that the proxies in front
set: then the entry ``TRUSTED_PROXY_COUNT`` places from its right end (the one the outermost trusted proxy
saw) is the client's; whatever a client writes further left is ignored. IPv6 clients are counted by their /64
network, since anyone holding one can use many of its addresses.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import AuditEvent, SignInThrottle
from accounts.services import audit_record

logger = logging.getLogger(__name__)

# The first cool-off; each lockout in a row doubles it, up to SIGNIN_MAX_COOLOFF.
FIRST_COOLOFF_SECONDS = 60
# A lockout older than this no longer makes the next one longer.
LOCKOUT_MEMORY = timedelta(days=1)


@dataclass(frozen=True)
class SignInRefusal:
    """Why an attempt was refused without checking its password: a lockout lasting until ``until``."""

    until: datetime

    def seconds_left(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))

    def message(self) -> str:
        minutes = math.ceil(self.seconds_left() / 60)
        return f"Too many failed sign-ins; try again in {minutes} minute{'' if minutes == 1 else 's'}."


def client_address(request: HttpRequest) -> str:
    """The client's IP address as the throttle and the audit trail record it (see the module docstring)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        hops = [hop.strip() for hop in request.META.get(header, "").split(",") if hop.strip()]
        if len(hops) >= settings.TRUSTED_PROXY_COUNT:
            candidate = hops[-settings.TRUSTED_PROXY_COUNT]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("%s holds no IP address where the client's should be; using REMOTE_ADDR", header)
    return remote


def address_key(address: str) -> str:
    """The throttle key of a client address: the address itself for IPv4, the /64 network for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:150] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def cooloff_seconds(lockouts_before: int) -> int:
    """The cool-off of a lockout that follows ``lockouts_before`` others in a row."""
    return min(FIRST_COOLOFF_SECONDS * 2 ** min(lockouts_before, 30), settings.SIGNIN_MAX_COOLOFF)


def _keys(*, username: str, address: str | None) -> list[tuple[str, str]]:
    # Always in this order, so that two attempts never wait for each other's rows the other way round.
    keys = [(SignInThrottle.Kind.ADDRESS, address_key(address))] if address is not None else []
    return [*keys, (SignInThrottle.Kind.ACCOUNT, username[:150])]


def _limit(kind: str) -> int:
    if kind == SignInThrottle.Kind.ADDRESS:
        return settings.SIGNIN_ADDRESS_FAILURE_LIMIT
    return settings.SIGNIN_FAILURE_LIMIT


def _row(kind: str, key: str) -> SignInThrottle:
    row, _ = SignInThrottle.objects.select_for_update().get_or_create(kind=kind, key=key)
    return row


def signin_attempt_begin(*, username: str, address: str | None) -> SignInRefusal | None:
    """Admits one password check for ``username`` from ``address`` (None: no request, e.g. a shell), or refuses it.

    Refuses while the address or the account is locked, or when attempts still being checked already fill the
    limit. An admitted attempt counts as a failure of both until ``signin_attempt_finish`` says otherwise.
    Writes nothing to the audit trail; the caller records a refusal with ``signin_refusal_record``.
    """
    now = timezone.now()
    window = timedelta(seconds=settings.SIGNIN_FAILURE_WINDOW)
    with transaction.atomic():
        rows = []
        for kind, key in _keys(username=username, address=address):
            row = _row(kind, key)
            if row.locked_until is not None and row.locked_until > now:
                return SignInRefusal(until=row.locked_until)
            rows.append(row)
        for row in rows:
            if row.window_start is not None and now - row.window_start >= window:
                row.failures, row.window_start = 0, None
            if row.failures >= _limit(row.kind):
                return SignInRefusal(until=now + timedelta(seconds=cooloff_seconds(row.lockouts)))
        for row in rows:
            row.failures += 1
            row.window_start = row.window_start or now
            row.save()
    return None


def signin_attempt_finish(*, username: str, address: str | None, succeeded: bool) -> SignInRefusal | None:
    """Settles an attempt admitted by ``signin_attempt_begin``; returns the lockout a failure started, if any.

    A success clears the account's failures and lockout history and gives back the address's count. A failure
    stays counted; reaching ``SIGNIN_FAILURE_LIMIT`` locks the account or address for its cool-off. Logs and
    audits the failure and each lockout it starts (username tried and address, never the password).
    """
    now = timezone.now()
    started: list[tuple[SignInThrottle, datetime]] = []  # each lockout begun, with its end
    with transaction.atomic():
        for kind, key in _keys(username=username, address=address):
            row = _row(kind, key)
            if succeeded and kind == SignInThrottle.Kind.ACCOUNT:
                row.failures, row.window_start, row.lockouts, row.locked_until = 0, None, 0, None
            elif succeeded:
                row.failures = max(0, row.failures - 1)
            else:
                row.last_failure_at = now
                if row.failures >= _limit(row.kind):
                    if row.locked_until is not None and now - row.locked_until >= LOCKOUT_MEMORY:
                        row.lockouts = 0
                    until = now + timedelta(seconds=cooloff_seconds(row.lockouts))
                    row.locked_until = until
                    row.lockouts += 1
                    row.failures, row.window_start = 0, None
                    started.append((row, until))
            row.save()
    if succeeded:
        return None
    detail = {"username": username[:150], "address": address or ""}
    logger.warning("sign-in failed for %r from %s", username[:150], address or "-")
    audit_record(actor=None, action="signin.failed", outcome=AuditEvent.Outcome.FAILED, detail=detail,
                 summary=f"Failed sign-in as {username[:150]!r} from {address or 'no address'}")
    for row, until in started:
        minutes = math.ceil((until - now).total_seconds() / 60)
        logger.warning("sign-in locked for %s %r until %s (lockout %d in a row)", row.kind, row.key,
                       until.isoformat(), row.lockouts)
        audit_record(
            actor=None, action="signin.lockout", outcome=AuditEvent.Outcome.OK,
            summary=f"Locked sign-in of {row.get_kind_display().lower()} {row.key} for {minutes} min",
            detail={**detail, "locked": row.kind, "key": row.key, "until": until.isoformat(),
                    "lockouts_in_a_row": row.lockouts},
        )
    return SignInRefusal(until=max(until for _, until in started)) if started else None


def signin_refusal_record(*, username: str, address: str | None, refusal: SignInRefusal) -> None:
    """Logs and audits an attempt refused during a lockout (its password was never checked)."""
    logger.warning("sign-in refused for %r from %s: locked until %s", username[:150], address or "-",
                   refusal.until.isoformat())
    audit_record(
        actor=None, action="signin.refused", outcome=AuditEvent.Outcome.REFUSED,
        summary=f"Refused sign-in as {username[:150]!r} from {address or 'no address'}: locked",
        detail={"username": username[:150], "address": address or "", "until": refusal.until.isoformat()},
    )


def signin_lockout_lift(*, throttles: Iterable[SignInThrottle], actor: AbstractBaseUser | None) -> int:
    """Lifts the lockouts (and forgets the failures) of these accounts or addresses; returns how many.

    Records one audit event per lifted row, with ``actor`` as the admin who lifted it (None: the command line).
    """
    lifted = 0
    now = timezone.now()
    for throttle in throttles:
        with transaction.atomic():
            row = SignInThrottle.objects.select_for_update().filter(pk=throttle.pk).first()
            if row is None:
                continue
            was_locked = row.locked_until is not None and row.locked_until > now
            row.failures, row.window_start, row.lockouts, row.locked_until = 0, None, 0, None
            row.save()
            audit_record(
                actor=actor, action="signin.lockout_lift",
                summary=f"Lifted the sign-in lockout of {row.get_kind_display().lower()} {row.key}",
                detail={"kind": row.kind, "key": row.key, "was_locked": was_locked},
            )
        lifted += 1
    return lifted


def signin_throttles_prune() -> int:
    """Deletes rows that remember nothing any more: no failure within the window, no lockout within a day."""
    now = timezone.now()
    forgotten = Q(failures=0) | Q(window_start__lt=now - timedelta(seconds=settings.SIGNIN_FAILURE_WINDOW))
    deleted, _ = SignInThrottle.objects.filter(forgotten).exclude(locked_until__gt=now - LOCKOUT_MEMORY).delete()
    return deleted


class ThrottledModelBackend(ModelBackend):
    """Django's username and password backend behind the sign-in throttle.

    A refused attempt raises ``PermissionDenied`` (so no later backend tries the password either) and leaves
    the refusal on ``request.signin_refusal`` for the sign-in forms and ``SignInRefusalMiddleware``.
    """

    @sensitive_variables("password")
    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> User | None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = client_address(request) if request is not None else None
        refusal = signin_attempt_begin(username=username, address=address)
        if refusal is not None:
            signin_refusal_record(username=username, address=address, refusal=refusal)
            self._note(request, refusal)
            raise PermissionDenied(refusal.message())
        user = None
        try:
            user = super().authenticate(request, username=username, password=password, **kwargs)
        finally:
            refusal = signin_attempt_finish(username=username, address=address, succeeded=user is not None)
        if refusal is not None:
            self._note(request, refusal)
        return user

    @sensitive_variables("password")
    async def aauthenticate(self, request: HttpRequest | None, username: str | None = None,
                            password: str | None = None, **kwargs: Any) -> User | None:
        # ModelBackend's own async version would check the password without the throttle.
        return await sync_to_async(self.authenticate)(request, username=username, password=password, **kwargs)

    @staticmethod
    def _note(request: HttpRequest | None, refusal: SignInRefusal) -> None:
        if request is not None:
            request.signin_refusal = refusal  # type: ignore[attr-defined]


class _ThrottledLoginFormMixin:
    """Says "too many failed sign-ins" instead of "wrong password" when the throttle refused the attempt."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> ValidationError:
        refusal = getattr(self.request, "signin_refusal", None)
        if refusal is not None:
            return ValidationError(refusal.message(), code="throttled")
        return super().get_invalid_login_error()  # type: ignore[misc]


class SignInForm(_ThrottledLoginFormMixin, AuthenticationForm):
    """The portal's sign-in form (``/login/``)."""

    # Django's own form attribute, read per form and never mutated.
    error_messages = {  # noqa: RUF012 - typed by django-stubs' AuthenticationForm
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Try again.",
    }


class AdminSignInForm(_ThrottledLoginFormMixin, AdminAuthenticationForm):
    """The admin's sign-in form (``/admin/login/``), behind the same throttle."""


class SignInRefusalMiddleware:
    """Answers a sign-in form refused by the throttle with 429 and ``Retry-After``, on whichever sign-in page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        refusal = getattr(request, "signin_refusal", None)
        if refusal is not None and response.status_code == 200:
            response.status_code = 429
            response["Retry-After"] = str(refusal.seconds_left())
        return response
