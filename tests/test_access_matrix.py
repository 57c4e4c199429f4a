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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Action, AuditEvent
from bulk.selectors import Selection
from bulk.services import bulk_job_create
from compliance.casefile_models import CaseFileJob
from journeys.models import Journey
from journeys.services.sync import journey_refresh
from launches.models import BulkLaunch, Launch, LaunchStatus
from mintportal.mint import MintClient, get_client
from mintportal.mint import models as mint_models
from savedviews.services import savedview_create
from tests.personas import TEAMS, approval_workflow_create, place_workflow, team
from workflows.services import secret_create

pytestmark = pytest.mark.django_db

ANY = "signed-in"  # every signed-in user
PUBLIC = "public"  # no sign-in needed
SECRETS = "secrets"  # managing secrets: MANAGE on every workflow (secrets belong to the whole Mint account)
JOB_OWNER = "job-owner"  # the bulk job's creator (the matrix's are the operator's), or a reader with MANAGE_ACCESS
JOB_CREATOR = "job-creator"  # the bulk job's creator only (confirming it)
VIEW_OWNER = "view-owner"  # the owner of the saved view (the matrix's is the admin's, shared with every persona team)
CASEFILE_OWNER = "casefile-owner"  # the case-file job's owner (the matrix's are the operator's)
LAUNCHER = "launcher"  # the person who launched it (the matrix's launches are the operator's), with LAUNCH there
MATRIX_LAUNCHER = "operator"
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
    "healthz": Route(get=PUBLIC),
    "readyz": Route(get=PUBLIC),
    # Off unless METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES is set (tests/mintportal/test_health.py covers both).
    "metrics": Route(get=PUBLIC, public_statuses=frozenset({404})),
    "mint-webhook": Route(post=PUBLIC, public_statuses=frozenset({401, 403})),
    "accounts:login": Route(get=PUBLIC, post=PUBLIC),
    # Single sign-on is off here (OIDC_ISSUER empty), so both answer 404; tests/sso covers them switched on.
    "sso:login": Route(get=PUBLIC, public_statuses=frozenset({404})),
    "sso:callback": Route(get=PUBLIC, public_statuses=frozenset({404})),
    "accounts:logout": Route(post=ANY),
    "accounts:dashboard": Route(get=ANY),
    "accounts:theme": Route(post=ANY),
    "journeys:list": Route(get=ANY, variants=(*PROBES, "?status=active&sort=-last_executed_at")),
    "journeys:export": Route(get=ANY, variants=PROBES),
    "journeys:detail": Route(get=Action.VIEW, variants=("?region=notes",)),
    "journeys:poll": Route(get=Action.VIEW, variants=("?fp=drawn-before&sig=before",)),
    "journeys:resume": Route(post=Action.CONTINUE),
    "journeys:url": Route(post=Action.SHARE),
    "journeys:note_add": Route(post=Action.ANNOTATE),
    "journeys:note_edit": Route(get=Action.ANNOTATE, post=Action.ANNOTATE),
    "journeys:file": Route(get=Action.VIEW),
    "journeys:reveal": Route(post=Action.REVEAL),
    "privacy:workflow": Route(get=Action.VIEW, post=Action.MANAGE, variants=("?version=1", "?suggest=1")),
    "compliance:erasure": Route(get=Action.ERASE, post=Action.ERASE),
    "compliance:erasure_confirm": Route(post=Action.ERASE),
    "compliance:erasure_report": Route(get=Action.ERASE),
    "casefiles:pdf": Route(get=Action.VIEW),
    "casefiles:batch": Route(post=ANY, variants=PROBES),
    # A case-file job's page answers an htmx poll with ?seen= by 204 while nothing changed, so it has no variant.
    "casefiles:job": Route(get=CASEFILE_OWNER),
    "casefiles:download": Route(get=CASEFILE_OWNER),
    # The matrix journey waits on an approval, so holding its case takes APPROVE.
    "journeys:claim": Route(post=Action.APPROVE),
    "notifications:preferences": Route(get=ANY, post=ANY),
    "accounts:time_zone": Route(get=ANY, post=ANY),
    "accounts:time_display": Route(post=ANY),
    "workflows:step_form": Route(get=Action.MANAGE, post=Action.MANAGE),
    "workflows:list": Route(get=Action.VIEW, variants=PROBES),
    "workflows:create": Route(get=Action.MANAGE, post=Action.MANAGE),
    "workflows:step_types": Route(get=Action.VIEW),
    "workflows:secrets": Route(get=SECRETS, post=SECRETS),
    "workflows:secret_edit": Route(get=SECRETS, post=SECRETS),
    "workflows:detail": Route(get=Action.VIEW),
    "journeys:workflow_steps": Route(get=Action.VIEW, variants=("?version=1",)),
    "workflows:edit": Route(get=Action.MANAGE, post=Action.MANAGE),
    "workflows:diff": Route(get=Action.VIEW, variants=("?a=1&b=1",)),
    "workflows:publish": Route(post=Action.MANAGE),
    "workflows:file": Route(get=Action.VIEW),
    "launches:index": Route(get=ANY),
    "launches:new": Route(get=Action.LAUNCH, post=Action.LAUNCH),
    "launches:bulk-upload": Route(post=Action.LAUNCH),
    # A launch's page: its launcher, and whoever may view the journey it started; a bulk launch: its launcher.
    "launches:detail": Route(get=Action.VIEW),
    "launches:bulk": Route(get=LAUNCHER),
    "launches:bulk-confirm": Route(post=LAUNCHER),
    "launches:bulk-discard": Route(post=LAUNCHER),
    "launches:bulk-results": Route(get=LAUNCHER),
    "approvals:inbox": Route(get=ANY, variants=(*PROBES, "?kind=approval")),
    "approvals:decide": Route(get=Action.APPROVE, post=Action.APPROVE),
    "audit:list": Route(get=Action.AUDIT, variants=PROBES),
    "audit:export": Route(get=Action.AUDIT, variants=PROBES),
    "operations:overview": Route(get=Action.MANAGE_ACCESS),
    "bulk:new": Route(get=ANY, post=ANY, variants=PROBES),
    "bulk:job": Route(get=JOB_OWNER, variants=("?verdict=refused&page=2",)),
    "bulk:confirm": Route(post=JOB_CREATOR),
    "bulk:results": Route(get=JOB_OWNER),
    "savedviews:list": Route(get=Action.VIEW),
    "savedviews:create": Route(get=Action.VIEW, post=Action.VIEW, variants=("?query=workflow%3D{workflow_id}",)),
    "savedviews:edit": Route(get=VIEW_OWNER, post=VIEW_OWNER),
    "savedviews:delete": Route(get=VIEW_OWNER, post=VIEW_OWNER),
    "savedviews:pin": Route(post=Action.VIEW),
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
    job_id: uuid.UUID
    casefile_job_id: uuid.UUID
    secrets: list[str] = field(default_factory=list)
    saved_view_id: int = 0

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
    job = bulk_job_create(user=launcher, action="note", params={"content": "matrix"}, key=f"matrix-{token}",
                          selection=Selection(journey_ids=(journey.id,), description="matrix", query=""))
    casefile_job = CaseFileJob.objects.create(owner=launcher, journey_ids=[journey.id], total=1, created_at=now)
    # Something for the audit page to leak, if it ever forgot the scope.
    AuditEvent.objects.create(at=now, actor_username="operator", action="journey.launch", workflow_id=workflow.id,
                              journey_id=journey.id, summary=f"Launched {journey.name}")
    return Side(
        workflow_id=workflow.id, workflow_name=workflow.name or "", journey_id=journey.id,
        journey_name=journey.name or "", note_id=note.id, note_text=note_text,
        journey_file_id=journey.files[0].id, journey_file_name=journey.files[0].filename,
        workflow_file_id=uploaded.id, workflow_file_name=uploaded.filename, launch_id=launch.id, bulk_id=bulk.id,
        job_id=job.id, casefile_job_id=casefile_job.id,
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
    by_name: dict[str, Callable[[], Any]] = {
        "journey_id": lambda: side.journey_id,
        "workflow_id": lambda: side.workflow_id,
        "step_id": lambda: "after",
        "note_id": lambda: side.note_id,
        "file_id": lambda: side.journey_file_id if "journey_id" in arguments else side.workflow_file_id,
        "version": lambda: 1,
        "launch_id": lambda: side.launch_id,
        "bulk_id": lambda: side.bulk_id,
        "secret_id": lambda: side.secrets[0],
        "job_id": lambda: side.job_id,
        "casefile_job_id": lambda: side.casefile_job_id,
        "view_id": lambda: side.saved_view_id,
    }
    unknown = [argument for argument in arguments if argument not in by_name]
    if unknown:
        pytest.fail(f"The access matrix cannot fill argument {unknown[0]!r} of {name}; teach _fill about it")
    return {argument: by_name[argument]() for argument in arguments}


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
        return _expected_on_object(persona, requirement, inside_rights if inside else outside_rights)
    if requirement == ANY:
        return ALLOWED
    owned = _expected_of_owned(persona, requirement, inside_rights)
    if owned is not None:
        return owned
    if requirement == SECRETS:
        return ALLOWED if Action.MANAGE in inside_rights & outside_rights else frozenset({403})
    return ALLOWED if requirement in inside_rights | outside_rights else frozenset({403})


def _expected_of_owned(persona: str, requirement: str, inside_rights: frozenset[str]) -> frozenset[int] | None:
    """For a route of something one person owns (a saved view, a bulk job); None for any other requirement."""
    if requirement == VIEW_OWNER:
        return ALLOWED if persona == "admin" else frozenset({403})
    if requirement == CASEFILE_OWNER:
        # Someone else's case-file job is not revealed: its zip may hold revealed data.
        return ALLOWED if persona == MATRIX_LAUNCHER else frozenset({404})
    if requirement not in (JOB_OWNER, JOB_CREATOR):
        return None
    # Someone else's bulk job is not revealed; a manager of access may read it but not confirm it.
    if persona == MATRIX_LAUNCHER:
        return ALLOWED
    if Action.MANAGE_ACCESS in inside_rights:
        return ALLOWED if requirement == JOB_OWNER else frozenset({403})
    return frozenset({404})


def _expected_on_object(persona: str, requirement: str, rights: frozenset[str]) -> frozenset[int]:
    """For a route naming a journey, workflow, launch or bulk launch of a workflow where the persona has ``rights``."""
    if Action.VIEW not in rights:
        return frozenset({404})
    if requirement == LAUNCHER:
        # Someone else's bulk launch is not revealed, whatever the visitor's rights.
        return ALLOWED if persona == MATRIX_LAUNCHER and Action.LAUNCH in rights else frozenset({404})
    return ALLOWED if requirement in rights else frozenset({403})


def _body(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace") + response.get("Location", "") + response.get("HX-Redirect", "")


@pytest.fixture
def matrix_data(mint_settings, operator: User, admin: User) -> tuple[Side, Side]:
    client = get_client()
    assert operator.get_username() == MATRIX_LAUNCHER
    inside = _side(client, tags=["onboarding"], label="inside", launcher=operator)
    outside = _side(client, tags=["batch"], label="outside", launcher=operator)
    secret = secret_create(actor=admin, name=f"matrix-{uuid.uuid4().hex[:8]}", description="", value="matrix-value")
    inside.secrets.append(secret.id)
    outside.secrets.append(secret.id)
    # A saved view of the admin's over the inside workflow, shared with every persona team: the others may open and
    # pin it, only the admin change it.
    view = savedview_create(owner=admin, name="Matrix view", query=f"workflow={inside.workflow_id}",
                            teams=[team(name) for name in TEAMS])
    inside.saved_view_id = outside.saved_view_id = view.pk
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
        status = response.status_code
        # htmx follows a redirect inside the page, so the sign-in redirect reaches it as HX-Redirect instead.
        if htmx and status == 200 and response.get("HX-Redirect", "").startswith(reverse("accounts:login")):
            status = 302
        if status not in wanted:
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
    waiting = re.search(r"<strong>(\d+)</strong> journeys?", inbox)
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


# --- forged writes: a request naming what the page never offered --------------------------------------------

MINT_WRITES = ("resumeJourney", "approveJourney", "createJourneyUrl")


@dataclass(frozen=True)
class Waiting:
    """Journeys of one in-scope workflow, each waiting on a step of a different kind (or ended)."""

    at_login: str  # an end user's eID login
    at_check: str  # a require-approval step
    at_after: str  # a suspend step, the only kind a case handler may continue
    ended: str  # faulted (rejected)
    outside: str  # waiting at "check", on a workflow outside every persona's scope but the admin's


def _waiting_journeys(client: MintClient) -> Waiting:
    def step(step_id: str, step_type: str) -> Any:
        return mint_models.WorkflowStep(id=step_id, type=step_type)

    def link(source: str, target: str, outcome: str | None = None) -> Any:
        return mint_models.WorkflowStepConnection(source_step_id=source, target_step_id=target, outcome=outcome)

    login_flow = client.create_workflow(mint_models.WorkflowInput(
        name=f"Forgery {uuid.uuid4().hex[:8]}",
        steps=[step("login", "eid-login"), step("review", "suspend"), step("end", "finish")],
        connections=[link("login", "review", "Success"), link("review", "end")],
    ))
    place_workflow(login_flow.id, tags=["onboarding"], name=login_flow.name or "")
    approvals = approval_workflow_create(client, tags=["onboarding"], name="Forgery approvals")
    outside = approval_workflow_create(client, tags=["batch"], name="Forgery outside")

    def started(workflow_id: str) -> str:
        journey_id = client.start_journey(workflow_id, input={"case": uuid.uuid4().hex[:6]}).journey_id
        journey_refresh(journey_id=journey_id)
        return journey_id

    at_login, at_check, at_after, ended = (started(login_flow.id), started(approvals.id), started(approvals.id),
                                           started(approvals.id))
    client.approve_journey(at_after, step_id="check", approved=True, message="set-up")
    client.approve_journey(ended, step_id="check", approved=False, message="set-up")
    for journey_id in (at_after, ended):
        journey_refresh(journey_id=journey_id)
    return Waiting(at_login=at_login, at_check=at_check, at_after=at_after, ended=ended,
                   outside=started(outside.id))


def _waiting_at(client: MintClient, journey_id: str) -> tuple[str, list[str]]:
    journey = client.get_journey(journey_id)
    return journey.status, sorted(step.step_id for step in journey.active_steps)


@pytest.fixture
def waiting(mint_settings) -> Waiting:
    return _waiting_journeys(get_client())


# (route, journey, posted data, the statuses a refusal may have). Every case names a step the page would not
# offer there: an end user's step, a step of another kind, one that does not wait (yet or any more), one that
# does not exist, or a journey that has ended.
FORGERIES: list[tuple[str, str, dict[str, str], frozenset[int]]] = [
    ("journeys:resume", "at_login", {"step_id": "login", "input": '{"subject": "forged"}'}, frozenset({400})),
    ("journeys:resume", "at_check", {"step_id": "check", "input": "approved=true"}, frozenset({400})),
    ("journeys:resume", "at_check", {"step_id": "after", "input": ""}, frozenset({409})),
    ("journeys:resume", "at_after", {"step_id": "check", "input": ""}, frozenset({409})),
    ("journeys:resume", "at_after", {"step_id": "no-such-step", "input": ""}, frozenset({409})),
    ("journeys:resume", "ended", {"step_id": "after", "input": ""}, frozenset({409})),
    ("approvals:decide", "at_login", {"step_id": "login", "decision": "approve"}, frozenset({400})),
    ("approvals:decide", "at_after", {"step_id": "after", "decision": "approve"}, frozenset({400})),
    ("approvals:decide", "at_after", {"step_id": "check", "decision": "approve"}, frozenset({409})),
    ("approvals:decide", "at_check", {"step_id": "no-such-step", "decision": "reject", "reason": "x"},
     frozenset({409})),
    ("approvals:decide", "at_check", {"step_id": "check", "decision": "approve", "occurrence": "7"},
     frozenset({409})),
    ("journeys:url", "ended", {"time_to_live": "600"}, frozenset({409})),
]
# Who may make each write on the in-scope workflow (tests/personas.py), so that the refusal is the step's fault.
WRITERS = {"journeys:resume": ("case_handler", "admin"), "approvals:decide": ("approver", "admin"),
           "journeys:url": ("case_handler", "operator", "admin")}


@pytest.mark.parametrize("persona", ["case_handler", "approver", "operator", "admin"])
def test_a_forged_write_is_refused_audited_and_never_reaches_mint(
    request: pytest.FixtureRequest, persona: str, waiting: Waiting, sandbox
) -> None:
    user = request.getfixturevalue(persona)
    mint = get_client()
    web = Client()
    web.force_login(user)
    before = {name: _waiting_at(mint, getattr(waiting, name)) for name in ("at_login", "at_check", "at_after")}
    sandbox.reset_counters()
    problems: list[str] = []
    for route, journey_name, data, refusals in FORGERIES:
        journey_id = getattr(waiting, journey_name)
        refused_before = AuditEvent.objects.filter(journey_id=journey_id, outcome=AuditEvent.Outcome.REFUSED).count()
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            response = web.post(reverse(route, kwargs={"journey_id": journey_id}), data, headers=headers)
            wanted = refusals if persona in WRITERS[route] else frozenset({403})
            if response.status_code not in wanted:
                problems.append(f"{persona} {route} {journey_name} {data}: {response.status_code}, "
                                f"expected {sorted(wanted)}")
        refused = AuditEvent.objects.filter(journey_id=journey_id, outcome=AuditEvent.Outcome.REFUSED).count()
        if persona in WRITERS[route] and refused - refused_before != 2:
            problems.append(f"{persona} {route} {journey_name} {data}: {refused - refused_before} refusals audited")
    # Not one forged write reached Mint, and no journey moved.
    assert {op: sandbox.count(op) for op in MINT_WRITES} == dict.fromkeys(MINT_WRITES, 0)
    assert {name: _waiting_at(mint, getattr(waiting, name)) for name in before} == before
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("route,data", [
    ("journeys:resume", {"step_id": "check", "input": ""}),
    ("approvals:decide", {"step_id": "check", "decision": "approve"}),
    ("journeys:url", {"time_to_live": "600"}),
])
def test_a_write_to_a_journey_outside_the_scope_answers_404_and_reaches_nothing(
    case_handler: User, approver: User, operator: User, waiting: Waiting, sandbox, route: str, data: dict
) -> None:
    sandbox.reset_counters()
    for user in (case_handler, approver, operator):
        web = Client()
        web.force_login(user)
        response = web.post(reverse(route, kwargs={"journey_id": waiting.outside}), data)
        assert response.status_code == 404, (user, response.status_code)
    assert {op: sandbox.count(op) for op in MINT_WRITES} == dict.fromkeys(MINT_WRITES, 0)
    recorded = AuditEvent.objects.filter(journey_id=waiting.outside)
    assert recorded.count() == 3 and set(recorded.values_list("outcome", flat=True)) == {"refused"}


def test_the_handler_continues_the_suspend_step_the_page_offers(case_handler: User, waiting: Waiting) -> None:
    """The refusals above are about the step, not the route: the offered step still goes through."""
    web = Client()
    web.force_login(case_handler)
    response = web.post(reverse("journeys:resume", kwargs={"journey_id": waiting.at_after}),
                        {"step_id": "after"}, follow=True)
    assert response.status_code == 200
    assert "now finished" in response.content.decode()
    assert _waiting_at(get_client(), waiting.at_after) == ("finished", [])
