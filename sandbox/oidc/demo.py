"""The provider's demo people, loaded by ``python -m sandbox demo`` (idempotent).

Their ``groups`` match the claim values that the portal's ``manage.py sso_demo_setup`` maps to demo teams;
the last one belongs to no mapped group, so signing in as them shows a portal account with no rights.
"""

from __future__ import annotations

from typing import TypedDict

from sandbox.oidc.services import person_upsert


class DemoPerson(TypedDict):
    subject: str
    username: str
    name: str
    email: str
    groups: list[str]


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    {"subject": "demo-sso-handler", "username": "siri.handler", "name": "Siri Saksbehandler",
     "email": "siri.handler@example.com", "groups": ["portal-case-handlers"]},
    {"subject": "demo-sso-operator", "username": "omar.operator", "name": "Omar Operator",
     "email": "omar.operator@example.com", "groups": ["portal-operators"]},
    {"subject": "demo-sso-approver", "username": "aino.approver", "name": "Aino Approver",
     "email": "aino.approver@example.com", "groups": ["portal-approvers"]},
    {"subject": "demo-sso-guest", "username": "gunnar.guest", "name": "Gunnar Guest",
     "email": "gunnar.guest@example.com", "groups": ["visitors"]},
)


def people_ensure_demo() -> None:
    """Makes the demo people exist as listed above."""
    for person in DEMO_PEOPLE:
        person_upsert(**person)
