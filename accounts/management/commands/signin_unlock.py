"""``manage.py signin_unlock USERNAME [ADDRESS]``: lifts the sign-in lockout of an account and its address.

For the administrator who is locked out and so cannot reach the admin's list of lockouts; whoever may run
commands on the server may do this. Each lifted lockout is an audit event by "system".
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q

from accounts.models import SignInThrottle
from accounts.signin import address_key, signin_lockout_lift


class Command(BaseCommand):
    help = "Lifts the sign-in lockout of an account (the username as typed) and, if given, a client address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("address", nargs="?", default="", help="the client address the person signs in from")

    def handle(self, *args: Any, username: str, address: str, **options: Any) -> None:
        wanted = Q(kind=SignInThrottle.Kind.ACCOUNT, key=username)
        if address:
            wanted |= Q(kind=SignInThrottle.Kind.ADDRESS, key=address_key(address))
        lifted = signin_lockout_lift(throttles=list(SignInThrottle.objects.filter(wanted)), actor=None)
        self.stdout.write(f"Lifted {lifted} lockout{'' if lifted == 1 else 's'}.")
