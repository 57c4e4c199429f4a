"""The access matrix: every URL pattern of the portal, for every persona, inside and outside their scope.

The walk iterates Django's URL resolver, so a new view is covered the moment it is routed; a pattern that
``ROUTES`` does not describe, or a URL argument the matrix cannot fill, fails the test until it is added
here. Each route is requested with GET and POST, as a full page and as an htmx request (plus any region
variants), against a journey/workflow inside the persona's scope and one outside it. The expected status
comes from the persona's rights written out below (not from the policy code under test):

- a method the view does not accept: 405 (the health check and the public pages answer any method);
- an object outside the persona's view scope: 404; an action the persona lacks: 403;
- otherwise one of 200, 302, 400 (an empty POST is a form with errors) — never 5xx.

And on every response of a persona that may not see the outside workflow, none of its identifying strings
(journey id and name, workflow id and name, note text, file name) appears in the body or a redirect.
The Django admin (``admin:``) follows its own permission model and is covered by tests/accounts/test_admin.py.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Action, AuditEvent
from journeys.models import Journey
from journeys.services.sync import journey_refresh
from launches.models import BulkLaunch, Launch, LaunchStatus
from mintportal.mint import MintClient, get_client
from tests.personas import approval_workflow_create
from workflows.services import secret_create

pytestmark = pytest.mark.django_db

ANY = "signed-in"  # every signed-in user
PUBLIC = "public"  # no sign-in needed
SECRETS = "secrets"  # managing secrets: MANAGE on every workflow (secrets belong to the whole Mint account)
ALL_ACTIONS = frozenset(Action.values)


@dataclass(frozen=True)
class Route:
    """What a URL pattern needs: the action per method (absent: 405), and extra query strings to try.

    For a route whose URL names a journey, workflow, launch or bulk launch, the action is checked on that
    object's workflow; otherwise on any workflow (the persona holds it somewhere), or ANY / PUBLIC / SECRETS.
    """

    get: str | None = None
    post: str | None = None
    variants: tuple[str, ...] = ()
    # Statuses a public endpoint may answer besides the usual ones (the webhook refuses unsigned posts).
    public_statuses: frozenset[int] = frozenset()


# Query strings that would surface the outside workflow if a list, search or filter forgot the scope. A page
# may echo what was typed (the search box), so each probe names one identifier and the check looks for the
# others; every identifier is typed by some probe.
PROBES = (
    "?q={journey_name}&search={journey_name}",
    "?q={journey_id}&search={workflow_name}",
    "?workflow={workflow_id}",
    "?journey={journey_id}",
)

ROUTES: dict[str, Route] = {
    "healthz": Route(get=PUBLIC, post=PUBLIC),
    "mint-webhook": Route(post=PUBLIC, public_statuses=frozenset({401, 403})),
    "accounts:login": Route(get=PUBLIC, post=PUBLIC),
    "accounts:logout": Route(post=ANY),
    "accounts:dashboard": Route(get=ANY),
    "journeys:list": Route(get=ANY, variants=PROBES + ("?status=active&sort=-last_executed_at",)),
    "journeys:export": Route(get=ANY, variants=PROBES),
    "journeys:detail": Route(get=Action.VIEW, variants=("?region=live", "?region=notes")),
    "journeys:resume": Route(post=Action.CONTINUE),
    "journeys:url": Route(post=Action.SHARE),
    "journeys:note_add": Route(post=Action.ANNOTATE),
    "journeys:note_edit": Route(get=Action.ANNOTATE, post=Action.ANNOTATE),
    "journeys:file": Route(get=Action.VIEW),
    "workflows:list": Route(get=Action.VIEW, variants=PROBES),
    "workflows:create": Route(get=Action.MANAGE, post=Action.MANAGE),
    "workflows:step_types": Route(get=Action.VIEW),
    "workflows:secrets": Route(get=SECRETS, post=SECRETS),
    "workflows:secret_edit": Route(get=SECRETS, post=SECRETS),
    "workflows:detail": Route(get=Action.VIEW),
    "workflows:edit": Route(get=Action.MANAGE, post=Action.MANAGE),
    "workflows:diff": Route(get=Action.VIEW, variants=("?a=1&b=1",)),
    "workflows:publish": Route(post=Action.MANAGE),
    "workflows:file": Route(get=Action.VIEW),
    "launches:index": Route(get=ANY),
    "launches:new": Route(get=Action.LAUNCH, post=Action.LAUNCH),
    "launches:bulk-upload": Route(post=Action.LAUNCH),
    "launches:detail": Route(get=Action.LAUNCH),
    "launches:bulk": Route(get=Action.LAUNCH),
    "launches:bulk-confirm": Route(post=Action.LAUNCH),
    "launches:bulk-discard": Route(post=Action.LAUNCH),
    "launches:bulk-results": Route(get=Action.LAUNCH),
    "approvals:inbox": Route(get=ANY, variants=PROBES + ("?kind=approval",)),
    "approvals:decide": Route(get=Action.APPROVE, post=Action.APPROVE),
    "audit:list": Route(get=Action.AUDIT, variants=PROBES),
    "audit:export": Route(get=Action.AUDIT, variants=PROBES),
}

# The personas' rights as tests/personas.py sets them up: (actions on the inside workflow, on the outside one).
RIGHTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "operator": (frozenset({Action.VIEW, Action.LAUNCH, Action.SHARE}), frozenset()),
    "approver": (frozenset({Action.VIEW, Action.APPROVE}), frozenset()),
    "approver2": (frozenset({Action.VIEW, Action.APPROVE}), frozenset()),
    "case_handler": (frozenset({Action.VIEW, Action.CONTINUE, Action.ANNOTATE, Action.SHARE}), frozenset()),
    "admin": (ALL_ACTIONS, ALL_ACTIONS),
    "outsider": (frozenset(), frozenset()),
    "anonymous": (frozenset(), frozenset()),
}
# Kinds of URL arguments that point at something belonging to one workflow.
OBJECT_ARGUMENTS = {"journey_id", "workflow_id", "launch_id", "bulk_id"}
ALLOWED = frozenset({200, 302, 400})


@dataclass
class Side:
    """The objects of one workflow (inside or outside the scope) that URL arguments are filled with."""

    workflow_id: str
    workflow_name: str
    journey_id: str
    journey_name: str
    note_id: str
    note_text: str
    journey_file_id: str
    journey_file_name: str
    workflow_file_id: str
    workflow_file_name: str
    launch_id: uuid.UUID
    bulk_id: uuid.UUID
    secrets: list[str] = field(default_factory=list)

    def identifying(self) -> list[str]:
        return [self.workflow_id, self.workflow_name, self.journey_id, self.journey_name, self.note_text,
                self.workflow_file_name]


def _side(client: MintClient, *, tags: list[str], label: str, launcher: User) -> Side:
    token = uuid.uuid4().hex[:8]
    workflow = approval_workflow_create(client, tags=tags, name=f"Matrix {label}")
    uploaded = client.upload_workflow_file(workflow.id, filename=f"{label}-{token}-spec.txt", content=b"spec")
    started = client.start_journey(workflow.id, input={"case": f"{label}-{token}"})
    journey = client.get_journey(started.journey_id)
    note_text = f"note-{label}-{token}"
    note = client.create_journey_note(journey.id, content=note_text)
    journey_refresh(journey_id=journey.id)
    now = timezone.now()
    launch = Launch.objects.create(key=f"matrix-{token}", workflow_id=workflow.id, journey_url_ttl=60,
                                   status=LaunchStatus.STARTED, created_by=launcher, created_at=now,
                                   journey_id=journey.id)
    bulk = BulkLaunch.objects.create(workflow_id=workflow.id, journey_url_ttl=60, created_by=launcher, created_at=now)
    # Something for the audit page to leak, if it ever forgot the scope.
    AuditEvent.objects.create(at=now, actor_username="operator", action="journey.launch", workflow_id=workflow.id,
                              journey_id=journey.id, summary=f"Launched {journey.name}")
    return Side(
        workflow_id=workflow.id, workflow_name=workflow.name or "", journey_id=journey.id,
        journey_name=journey.name or "", note_id=note.id, note_text=note_text,
        journey_file_id=journey.files[0].id, journey_file_name=journey.files[0].filename,
        workflow_file_id=uploaded.id, workflow_file_name=uploaded.filename, launch_id=launch.id, bulk_id=bulk.id,
    )


def portal_patterns() -> list[tuple[str, list[str]]]:
    """(name with namespace, URL argument names) of every routed view outside the Django admin."""
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: list[Any], namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern):
                assert entry.name, f"URL pattern {entry.pattern} has no name, so the matrix cannot describe it"
                found.append((f"{namespace}{entry.name}", list(entry.pattern.converters)))

    walk(get_resolver().url_patterns, "")
    return found


def _fill(name: str, arguments: list[str], side: Side) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for argument in arguments:
        if argument == "journey_id":
            values[argument] = side.journey_id
        elif argument == "workflow_id":
            values[argument] = side.workflow_id
        elif argument == "note_id":
            values[argument] = side.note_id
        elif argument == "file_id":
            values[argument] = side.journey_file_id if "journey_id" in arguments else side.workflow_file_id
        elif argument == "version":
            values[argument] = 1
        elif argument == "launch_id":
            values[argument] = side.launch_id
        elif argument == "bulk_id":
            values[argument] = side.bulk_id
        elif argument == "secret_id":
            values[argument] = side.secrets[0]
        else:
            pytest.fail(f"The access matrix cannot fill argument {argument!r} of {name}; teach _fill about it")
    return values


def expected(persona: str, requirement: str | None, *, on_object: bool, inside: bool) -> frozenset[int]:
    if requirement is None:
        # Anonymous requests meet the sign-in redirect or the method check first; neither reveals anything.
        return frozenset({302, 405}) if persona == "anonymous" else frozenset({405})
    if requirement == PUBLIC:
        return ALLOWED
    if persona == "anonymous":
        return frozenset({302})
    inside_rights, outside_rights = RIGHTS[persona]
    if on_object:
        rights = inside_rights if inside else outside_rights
        if Action.VIEW not in rights:
            return frozenset({404})
        return ALLOWED if requirement in rights else frozenset({403})
    if requirement == ANY:
        return ALLOWED
    if requirement == SECRETS:
        return ALLOWED if Action.MANAGE in inside_rights & outside_rights else frozenset({403})
    return ALLOWED if requirement in inside_rights | outside_rights else frozenset({403})


def _body(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace") + response.get("Location", "") + response.get("HX-Redirect", "")


@pytest.fixture
def matrix_data(mint_settings, operator: User, admin: User) -> tuple[Side, Side]:
    client = get_client()
    inside = _side(client, tags=["onboarding"], label="inside", launcher=operator)
    outside = _side(client, tags=["batch"], label="outside", launcher=operator)
    secret = secret_create(actor=admin, name=f"matrix-{uuid.uuid4().hex[:8]}", description="", value="matrix-value")
    inside.secrets.append(secret.id)
    outside.secrets.append(secret.id)
    return inside, outside


@pytest.mark.parametrize("persona", list(RIGHTS))
def test_every_route_answers_each_persona_as_the_policy_says_and_never_shows_what_is_outside(
    request: pytest.FixtureRequest, persona: str, matrix_data: tuple[Side, Side]
) -> None:
    inside, outside = matrix_data
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    forbidden = [] if RIGHTS[persona][1] else outside.identifying()
    patterns = portal_patterns()
    unknown = sorted(name for name, _ in patterns if name not in ROUTES)
    assert not unknown, f"Routes the access matrix does not describe (add them to ROUTES): {unknown}"
    problems: list[str] = []

    def check(url: str, method: str, requirement: str | None, route: Route, *, on_object: bool, inside_: bool,
              htmx: bool) -> None:
        client = Client()
        if user is not None:
            client.force_login(user)
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.get(url, headers=headers) if method == "GET" else client.post(url, {}, headers=headers)
        wanted = expected(persona, requirement, on_object=on_object, inside=inside_)
        if requirement == PUBLIC:
            wanted = wanted | route.public_statuses
        where = f"{method} {url}{' (htmx)' if htmx else ''}"
        if response.status_code not in wanted:
            problems.append(f"{where}: {response.status_code}, expected {sorted(wanted)}")
        body = _body(response)
        typed = unquote(url)
        problems.extend(f"{where}: shows {text!r} from outside the scope" for text in forbidden
                        if text in body and text not in typed)

    for name, arguments in patterns:
        route = ROUTES[name]
        on_object = bool(set(arguments) & OBJECT_ARGUMENTS)
        objects = [inside, outside] if on_object else [inside]
        for side in objects:
            base = reverse(name, kwargs=_fill(name, arguments, side))
            probe_values = {key: quote(str(value)) for key, value in vars(outside).items()}
            queries = [""] + [variant.format(**probe_values) for variant in route.variants]
            for query in queries:
                for method, requirement in (("GET", route.get), ("POST", route.post)):
                    if query and method == "POST":
                        continue
                    for htmx in (False, True):
                        check(base + query, method, requirement, route, on_object=on_object,
                              inside_=side is inside, htmx=htmx)

    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def _journeys_counted(client: Client) -> tuple[int, int, int]:
    """(active journeys on the dashboard, rows in the journeys CSV, journeys in the inbox) as a user sees them."""
    dashboard = client.get(reverse("accounts:dashboard")).content.decode()
    active = re.search(r'status-active"[^>]*>\s*<span class="stat-count">(\d+)<', dashboard)
    export = client.get(reverse("journeys:export"))
    rows = b"".join(export.streaming_content).decode().strip().splitlines()
    inbox = client.get(reverse("approvals:inbox")).content.decode()
    waiting = re.search(r"<strong>(\d+)</strong> journeys? waiting on you", inbox)
    return int(active.group(1)) if active else 0, len(rows) - 1, int(waiting.group(1)) if waiting else -1


def test_counts_exports_and_the_inbox_leave_out_what_is_outside_the_scope(
    admin: User, approver: User, outsider: User, matrix_data
) -> None:
    """The leak checks above mean something only if both sides exist: the admin counts both, others fewer."""
    inside, outside = matrix_data
    assert Journey.objects.filter(pk__in=[inside.journey_id, outside.journey_id], status="active").count() == 2
    client = Client()
    client.force_login(admin)
    assert _journeys_counted(client) == (2, 2, 2)
    client.force_login(approver)
    assert _journeys_counted(client) == (1, 1, 1)
    client.force_login(outsider)
    assert _journeys_counted(client) == (0, 0, 0)
