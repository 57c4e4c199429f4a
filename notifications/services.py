"""Writes for notifications: a person's choice (audited), and the runs that mail events through Django's e-mail
backend (SMTP in production, files under ``var/mail/`` in the embedded default).

Once per event and person: before a mail goes out its ``SentMail`` row is claimed (inserted, or taken over when
due again), so two runs or two workers at once send it at most once. A mail the server refused, or that could not
reach the server, is marked failed and sent again by a later run (backing off); a sent one is never sent again.
The one gap is a sender that dies after the server took the mail and before the row says so: when its lease ends
the mail goes out again (at least once, never silently lost).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.services import audit_record
from journeys.models import Claim, Journey
from notifications.models import Kind, Mode, NotificationPreference, SentMail, Status
from notifications.selectors import (
    Notice,
    WorkItem,
    assignment_notices,
    claimable,
    digest_slot,
    due_again,
    new_work,
    portal_link,
    recipients,
    sla_breaches,
    work_notices,
)

logger = logging.getLogger(__name__)

# A claimed row belongs to its sender this long; a sender that died leaves it to the first run after.
LEASE: Final = timedelta(minutes=5)
# Waits before a failed mail is tried again: 1, 2, 4... minutes, at most an hour.
FIRST_RETRY: Final = 60
LAST_RETRY: Final = 3600
# How many new cases one digest lists; the rest stay untold and come in the next one (the inbox has them all).
DIGEST_LIMIT: Final = 100
# The mail log keeps a row this long after it was written, and longer while its event may still be met.
KEEP_SENT: Final = timedelta(days=7)
# Refusals of one message (its recipient, sender or content): that mail fails, the others still go out. Any other
# error (connection refused, timeout, authentication, a dropped connection) means the server is out of reach, and
# the run stops until the next one.
MESSAGE_REFUSALS: Final = (
    smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
    # An address or header Django will not put in a message (a line break in it).
    ValueError,
)

INTROS: Final = {
    Kind.WORK: "A case is waiting for you in Mint Portal.",
    Kind.DIGEST: "New cases have arrived in Mint Portal since your last digest and are waiting for you.",
    Kind.ASSIGNMENT: "A case has been assigned to you in Mint Portal.",
    Kind.SLA: "A case waiting for you in Mint Portal has passed its service level (SLA).",
}


def preference_ensure(*, user: User, now: datetime) -> NotificationPreference:
    """The person's choice, stored with the default mode and a watermark of ``now`` the first time the portal looks
    at them, so that what already waited then is never mailed."""
    preference, _ = NotificationPreference.objects.get_or_create(
        user=user, defaults={"mode": settings.NOTIFICATIONS_DEFAULT_MODE, "watch_from": now, "updated_at": now},
    )
    return preference


def preference_set(*, user: User, mode: Mode) -> NotificationPreference:
    """Stores how the person wants to hear about new work (audited when it changes). Turning notifications on from
    off moves the watermark to now: what arrived while they were off is not mailed afterwards."""
    now = timezone.now()
    with transaction.atomic():
        preference = preference_ensure(user=user, now=now)
        preference = NotificationPreference.objects.select_for_update().get(pk=preference.pk)
        previous = preference.mode
        if previous == mode:
            return preference
        if previous == Mode.OFF:
            preference.watch_from = now
        preference.mode = mode
        preference.updated_at = now
        preference.save(update_fields=["mode", "watch_from", "updated_at"])
        audit_record(actor=user, action="notifications.preference", summary=f"E-mail notifications: {mode.label}",
                     detail={"mode": str(mode), "previous": previous})
    return preference


def _render(*, user: User, notice: Notice) -> EmailMessage:
    body = render_to_string("notifications/mail.txt", {
        "name": user.get_full_name() or user.get_username(),
        "intro": INTROS[Kind(notice.kind)],
        "lines": notice.lines,
        "inbox_link": portal_link(reverse("approvals:inbox")),
        "preferences_link": portal_link(reverse("notifications:preferences")),
    })
    # RFC 3834: an automatic message, so that out-of-office replies do not answer it.
    return EmailMessage(subject=notice.subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email],
                        headers={"Auto-Submitted": "auto-generated"})


class Outbox:
    """One run's sending: claims each event's row, sends through one connection, records the outcome, and stops
    at the run's limit or when the mail server cannot be reached."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.sent = 0
        self.limit = settings.NOTIFICATIONS_MAX_MAILS_PER_RUN
        self.down = False
        self._connection: BaseEmailBackend | None = None

    @property
    def open(self) -> bool:
        """Whether this run may still send."""
        return not self.down and self.sent < self.limit

    def deliver(self, *, user: User, notice: Notice, told: list[WorkItem] | None = None) -> bool:
        """Sends one notice to one person unless someone has it already; False once the run must stop sending.
        ``told``: the new work a digest lists, recorded as told once the digest is sent."""
        if not self.open:
            return False
        row = _claim(user=user, notice=notice, now=self.now)
        if row is None:
            return True
        try:
            message = _render(user=user, notice=notice)
            if self._connection is None:
                # One connection for the run's mails (settings.MAILERS: SMTP, or files in the embedded default).
                connection = mailers.default
                connection.open()
                self._connection = connection
            self._connection.send_messages([message])
        # OSError covers smtplib's errors, refused connections, timeouts and TLS failures; ValueError a bad header.
        except (OSError, ValueError) as exc:
            _mark_failed(row=row, error=exc, now=self.now)
            if not isinstance(exc, MESSAGE_REFUSALS):
                # Never the exception's text: a server's answer may echo the addresses.
                logger.warning("notifications: mail server out of reach (%s); stopping this run",
                               type(exc).__name__)
                self.down = True
                self.close()
            else:
                logger.warning("notifications: mail %s refused (%s)", row.pk, type(exc).__name__)
            return self.open
        _mark_sent(row=row, told=told or [], now=self.now)
        self.sent += 1
        return self.open

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except OSError:
                logger.info("notifications: closing the mail connection failed", exc_info=True)
            self._connection = None


def _claim(*, user: User, notice: Notice, now: datetime) -> SentMail | None:
    """Takes the event's row for this sender: a new row, or one due again. None when another has it or it is done."""
    lease = now + LEASE
    try:
        with transaction.atomic():
            return SentMail.objects.create(
                event=notice.event, user=user, kind=notice.kind, status=Status.SENDING, journey_id=notice.journey_id,
                since=notice.since, created_at=now, lease_until=lease, attempts=1,
            )
    except IntegrityError:
        pass
    # A conditional update: of two senders taking over the same row, one changes it and the other none.
    taken = SentMail.objects.filter(due_again(now), event=notice.event, user=user).update(
        status=Status.SENDING, lease_until=lease, attempts=F("attempts") + 1,
    )
    return SentMail.objects.get(event=notice.event, user=user) if taken else None


def _mark_sent(*, row: SentMail, told: list[WorkItem], now: datetime) -> None:
    with transaction.atomic():
        SentMail.objects.filter(pk=row.pk).update(status=Status.SENT, sent_at=now, lease_until=None, last_error="")
        if told:
            # The digest told the person of these cases: they are not mailed again, in a digest or at once.
            events = [item.event for item in told]
            SentMail.objects.bulk_create([
                SentMail(event=item.event, user_id=row.user_id, kind=Kind.WORK, status=Status.SENT,
                         journey_id=item.journey_id, since=item.since, created_at=now, sent_at=now)
                for item in told
            ], ignore_conflicts=True)
            SentMail.objects.filter(user_id=row.user_id, event__in=events).exclude(status=Status.SENT).update(
                status=Status.SKIPPED, lease_until=None,
            )


def _mark_failed(*, row: SentMail, error: Exception, now: datetime) -> None:
    attempts = SentMail.objects.filter(pk=row.pk).values_list("attempts", flat=True).first() or 1
    wait = min(FIRST_RETRY * 2 ** (attempts - 1), LAST_RETRY)
    SentMail.objects.filter(pk=row.pk, status=Status.SENDING).update(
        status=Status.FAILED, retry_at=now + timedelta(seconds=wait), lease_until=None,
        last_error=type(error).__name__[:100],
    )


def _skip(*, user: User, notice: Notice, now: datetime) -> None:
    """Records an event that is not to be mailed (an SLA that ran out before the watermark), so that no later scan
    reads it again."""
    SentMail.objects.bulk_create([SentMail(
        event=notice.event, user=user, kind=notice.kind, status=Status.SKIPPED, journey_id=notice.journey_id,
        since=notice.since, created_at=now,
    )], ignore_conflicts=True)


def notifications_send() -> int:
    """Beat: mails what happened since the last run to each person who has notifications on: cases assigned to them
    by someone else, SLAs that ran out on work waiting on them (the assignee's, or everyone's who may act while
    nobody holds it), and, to those who chose "at once", each new waiting step they may act on. At most
    ``NOTIFICATIONS_MAX_MAILS_PER_RUN`` mails; returns how many were sent."""
    now = timezone.now()
    outbox = Outbox(now=now)
    try:
        for user in recipients().iterator(chunk_size=500):
            preference = preference_ensure(user=user, now=now)
            if preference.mode == Mode.OFF:
                continue
            notices = assignment_notices(user=user, preference=preference, now=now)
            for breach in sla_breaches(user=user, now=now):
                if breach.breached_at < preference.watch_from:
                    _skip(user=user, notice=breach.notice, now=now)
                else:
                    notices.append(breach.notice)
            if preference.mode == Mode.IMMEDIATE:
                notices += work_notices(user=user, preference=preference, now=now)
            for notice in notices:
                if not outbox.deliver(user=user, notice=notice):
                    return outbox.sent
    finally:
        outbox.close()
    return outbox.sent


def notification_digests_send() -> int:
    """Beat: once a day, after ``NOTIFICATIONS_DIGEST_HOUR``, mails each person who chose the digest one list of
    the new work they have not been told about (none when there is none). Returns how many digests were sent."""
    now = timezone.now()
    slot = digest_slot(now=now)
    if slot is None:
        return 0
    event = f"digest:{slot.date().isoformat()}"
    outbox = Outbox(now=now)
    try:
        for user in recipients().iterator(chunk_size=500):
            preference = preference_ensure(user=user, now=now)
            if preference.mode != Mode.DIGEST or not claimable(user=user, events=[event], now=now):
                continue
            items = new_work(user=user, preference=preference, now=now, limit=DIGEST_LIMIT)
            if not items:
                continue
            count = len(items)
            notice = Notice(event=event, kind=Kind.DIGEST, journey_id="", since=slot,
                            subject=f"{count} new case{'s' if count != 1 else ''} waiting for you",
                            lines=tuple(item.line for item in items))
            if not outbox.deliver(user=user, notice=notice, told=items):
                break
    finally:
        outbox.close()
    return outbox.sent


def sent_mails_prune() -> int:
    """Beat (daily): forgets mail-log rows older than ``KEEP_SENT`` whose event cannot come round again: the
    step no longer waits since that time (a journey waiting again has a new ``waiting_since``, so a new event),
    the assignment no longer stands, or the digest's day is past. Returns how many rows went."""
    cutoff = timezone.now() - KEEP_SENT
    waits = Exists(Journey.objects.filter(pk=OuterRef("journey_id"), waiting_since=OuterRef("since")))
    held = Exists(Claim.objects.filter(journey_id=OuterRef("journey_id"), claimed_at=OuterRef("since")))
    gone = (
        Q(kind=Kind.DIGEST)
        | (Q(kind__in=[Kind.WORK, Kind.SLA]) & ~waits)
        | (Q(kind=Kind.ASSIGNMENT) & ~held)
    )
    deleted, _ = SentMail.objects.filter(gone, created_at__lt=cutoff).delete()
    return deleted
