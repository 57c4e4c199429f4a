"""``manage.py privacy_demo_setup``: the personal fields of the sandbox demo's workflows, and a data protection
officer (idempotent).

Run by ``make run`` after ``demo_setup``, whose way of making teams, scopes and users it reuses (the command is a
subclass of it): the team "Data protection" may view, reveal, audit and erase on every workflow, and its member
``dpo`` signs in with the demo password. No other team gains anything: case handlers, approvers and operators see
personal values masked, and the Admins team already holds every action.

The demo workflows are found by name in Mint, or, when Mint cannot be reached, in the portal's workflow mirror;
each gets the declaration below on its version 1, which its later versions use too (the nearest earlier version's
declaration applies). A declaration that is already as below is left alone, so a second run changes nothing and
records nothing. Prints no personal value.

``make run`` starts the sandbox only after its setup commands, so there this command runs in the background with
``--wait``: the team and its user are made at once, and the declarations once the sandbox's port accepts
connections (waiting on the port, not on failed Mint calls, which would open the client's circuit breaker for the
portal's own processes too).
"""

from __future__ import annotations

import socket
import time
from typing import Any, Final
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import CommandParser
from django.db import transaction
from django.test.utils import override_settings

from accounts.models import Action, WorkflowRecord
from mintportal.mint import errors, get_client
from privacy import kinds
from privacy.services import declaration_seed
from workflows.management.commands.demo_setup import Command as DemoSetupCommand
from workflows.management.commands.demo_setup import ScopeSpec, TeamSpec

DATA_PROTECTION: Final = TeamSpec(
    "Data protection",
    (ScopeSpec("All workflows", (Action.VIEW, Action.REVEAL, Action.AUDIT, Action.ERASE), all_workflows=True),),
    members=("dpo",),
)

# The sandbox demo's workflows (sandbox/demo.py) by name, with the personal fields of their journeys' data. A
# send-email step's output names its recipient ("steps.notify.to"). The journey names and alert messages built
# from a customer's name are not declared themselves: the name's own words are masked in them through the field
# they come from, where declaring the whole title would mask its ordinary words ("Onboarding") everywhere.
DECLARED_VERSION: Final = 1
DEMO_FIELDS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "Customer onboarding": (
        ("steps.login.name", kinds.NAME),
        ("steps.login.birthDate", kinds.BIRTH_DATE),
        ("steps.login.nationalId", kinds.NATIONAL_ID),
        ("steps.details.email", kinds.EMAIL),
        ("steps.details.phone", kinds.PHONE),
        ("steps.details.address", kinds.ADDRESS),
    ),
    "Address change": (
        ("input.customerName", kinds.NAME),
        ("input.newAddress", kinds.ADDRESS),
        ("input.email", kinds.EMAIL),
    ),
    # The signatory types their name into the "review" form step; the contact person's name and e-mail arrive
    # as the journey's input and are printed into the contract and its e-mail.
    "Contract signing": (
        ("steps.review.signatory", kinds.NAME),
        ("input.contactName", kinds.NAME),
        ("input.contactEmail", kinds.EMAIL),
        ("steps.notify.to", kinds.EMAIL),
        ("steps.review.comments", kinds.FREE_TEXT),
    ),
    "Batch KYC check": (
        ("input.customers.name", kinds.NAME),
    ),
}


class Command(DemoSetupCommand):
    help = ("Declares the personal fields of the demo workflows and creates the data protection team and its user "
            "dpo (password 'mintdemo').")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-mint", action="store_true",
                            help="Find the demo workflows in the portal's mirror only, without asking Mint.")
        parser.add_argument("--wait", type=int, default=0, metavar="SECONDS",
                            help="Wait up to this long for Mint's port to accept connections before asking it.")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            self._team(DATA_PROTECTION)
        ask_mint = not options["skip_mint"]
        if ask_mint and options["wait"] > 0 and not _port_open(seconds=options["wait"]):
            self.stdout.write(f"Mint's port did not open within {options['wait']} s.")
        found = self._demo_workflows(ask_mint=ask_mint)
        with transaction.atomic():
            for name, fields in DEMO_FIELDS.items():
                workflow_ids = found.get(name, [])
                if not workflow_ids:
                    self.stdout.write(f"Personal data of {name}: workflow not found (load the sandbox demo, then "
                                      "run this again)")
                for workflow_id in workflow_ids:
                    changed = declaration_seed(workflow_id=workflow_id, version=DECLARED_VERSION,
                                               fields=[{"path": path, "kind": kind} for path, kind in fields])
                    self.stdout.write(f"Personal data of {name} ({workflow_id}): "
                                      f"{'declared' if changed else 'up to date'}")

    def _demo_workflows(self, *, ask_mint: bool) -> dict[str, list[str]]:
        """The ids of the workflows named as the demo's, by name: from Mint, else from the workflow mirror."""
        if ask_mint:
            try:
                # One quick attempt, as demo_setup's sync: under `make run` the sandbox may not be serving yet.
                with override_settings(MINT_MAX_RETRIES=0):
                    client = get_client()
                    return {name: sorted(row.id for row in client.iter_workflows(search=name) if row.name == name)
                            for name in DEMO_FIELDS}
            except errors.MintError as exc:
                self.stdout.write(f"Mint unreachable ({type(exc).__name__}): looking in the workflow mirror.")
        found: dict[str, list[str]] = {name: [] for name in DEMO_FIELDS}
        for workflow_id, name in (WorkflowRecord.objects.filter(name__in=list(DEMO_FIELDS))
                                  .order_by("id").values_list("id", "name")):
            found[name].append(workflow_id)
        return found


def _port_open(*, seconds: int) -> bool:
    """Whether Mint's host accepts a connection on its port within ``seconds`` (tried once a second)."""
    address = urlsplit(settings.MINT_BASE_URL)
    port = address.port or (443 if address.scheme == "https" else 80)
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection((address.hostname or "127.0.0.1", port), timeout=1):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
        # Waiting for another process to start listening: a pause between attempts is the point.
        time.sleep(1)
