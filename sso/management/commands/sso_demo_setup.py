"""``manage.py sso_demo_setup``: maps the sandbox provider's demo groups to the demo teams (idempotent).

Run by ``make run`` after ``demo_setup`` (which makes the teams). The sandbox's demo people (sandbox/oidc/demo.py)
carry these group names; a mapping whose team does not exist yet is skipped with a note.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from sso.models import ClaimMapping
from sso.services import claim_mapping_change_record

DEMO_MAPPINGS = (
    ("portal-case-handlers", "Case handlers"),
    ("portal-operators", "Operators"),
    ("portal-approvers", "Approvers"),
)


class Command(BaseCommand):
    help = "Maps the sandbox provider's demo groups to the demo teams."

    def handle(self, *args: Any, **options: Any) -> None:
        for claim_value, team_name in DEMO_MAPPINGS:
            team = Group.objects.filter(name=team_name).first()
            if team is None:
                self.stdout.write(f"SSO mapping {claim_value}: team {team_name} does not exist, skipped")
                continue
            mapping, created = ClaimMapping.objects.get_or_create(claim_value=claim_value, team=team)
            if created:
                claim_mapping_change_record(actor=None, mapping=mapping, verb="create")
            self.stdout.write(f"SSO mapping {claim_value} → {team_name}: {'created' if created else 'up to date'}")
