"""A journey's page: read live from the sandbox, refreshed by htmx, and its actions (continue, share, notes)."""

from __future__ import annotations

import itertools
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from journeys.models import Journey
from tests.journeys.conftest import make_journey
from tests.personas import WF_OUTSIDE, place_workflow
from tests.sandbox.helpers import Api, link, step, unique
from tests.sandbox_process import SandboxProcess, free_port

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def case_definition(name_template: str = "Case for {{ input.customer }}") -> dict:
    """Names the journey, raises an alert, writes a file, then waits for a case handler to continue."""
    steps = [
        step("name", "set-name", template=name_template),
        step("flag", "trigger-alert", severity="warning", message="Customer is on a watch list"),
        step("letter", "generate-document", filename="letter.txt", format="text",
             content="Dear {{ input.customer }}"),
        step("review", "suspend"),
        step("done", "finish"),
    ]
    connections = [link(a["id"], b["id"]) for a, b in itertools.pairwise(steps)]
    return {"steps": steps, "connections": connections}


@pytest.fixture
def case(api: Api, mint_settings) -> dict:
    """A journey waiting at the suspend step ``review``, its workflow mirrored with the onboarding tag."""
    workflow = api.create_workflow(case_definition(), inputParameters=[{"name": "customer"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    started = api.start(workflow["id"], {"customer": "Kari Nordmann"})
    return {"workflow": workflow, "journey_id": started["journeyId"], "url": reverse(
        "journeys:detail", kwargs={"journey_id": started["journeyId"]})}


@pytest.fixture
def form_case(api: Api, mint_settings) -> dict:
    """A journey waiting for the end user's form: the kind a journey URL is for."""
    steps = [step("name", "set-name", template="Form for {{ input.customer }}"),
             step("details", "form", fields=[{"name": "phone", "label": "Phone", "type": "text"}]),
             step("done", "finish")]
    connections = [link(a["id"], b["id"]) for a, b in itertools.pairwise(steps)]
    workflow = api.create_workflow({"steps": steps, "connections": connections}, inputParameters=[{"name": "customer"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    started = api.start(workflow["id"], {"customer": "Kari Nordmann"})
    return {"workflow": workflow, "journey_id": started["journeyId"]}


def test_the_page_shows_the_live_journey_and_refreshes_the_mirror(root_client: Client, case: dict) -> None:
    response = root_client.get(case["url"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Case for Kari Nordmann" in html
    assert "someone to continue this step by hand" in html.lower()
    assert "Customer is on a watch list" in html
    assert "letter.txt" in html
    assert 'class="step step-active"' in html  # the graph highlights the waiting step
    assert "Execution log" in html and "Continue this step" in html
    row = Journey.objects.get(pk=case["journey_id"])
    assert row.status == "active" and row.name == "Case for Kari Nordmann"
    assert [(step.step_id, step.step_type) for step in row.waiting_steps.all()] == [("review", "suspend")]


def poll_url(html: str) -> str:
    """The URL the page's live region polls, as the browser would request it."""
    return re.search(r'hx-get="([^"]+/live\?fp=[^"]+)" hx-trigger="every 10s"', html).group(1).replace("&amp;", "&")


def test_the_live_region_alone_answers_a_poll_from_a_page_drawn_before_the_journey_changed(
    root_client: Client, case: dict, api: Api,
) -> None:
    url = poll_url(root_client.get(case["url"]).content.decode())
    # Nothing changed since the page was drawn a moment ago: nothing to swap, and Mint is not asked.
    assert root_client.get(url, **HTMX).status_code == 204
    api.post(f"journeys/{case['journey_id']}/notes", json={"content": "Checked by phone"})
    # A page drawn from an older mirror row than the current one is redrawn.
    older = url.replace("fp=", "fp=older")
    html = root_client.get(older, **HTMX).content.decode().strip()
    assert html.startswith('<section id="journey-live"')
    assert "<html" not in html
    assert 'id="journey-status" class="page-head journey-head" hx-swap-oob="true"' in html
    # Same waiting steps as drawn: the action forms are left alone, so nothing typed is wiped.
    assert 'id="journey-actions"' not in html
    # The poll never shows the notes, so it never reads them.
    assert "Checked by phone" not in html
    stale = older.replace("sig=", "sig=stale")
    assert '<section id="journey-actions" hx-swap-oob="true">' in root_client.get(stale, **HTMX).content.decode()


def test_the_page_stops_polling_once_the_journey_has_ended(root_client: Client, case: dict, api: Api) -> None:
    assert 'hx-trigger="every 10s"' in root_client.get(case["url"]).content.decode()
    api.post(f"journeys/{case['journey_id']}/resume", json={"stepId": "review", "input": {}})
    html = root_client.get(case["url"]).content.decode()
    assert 'hx-trigger="every 10s"' not in html
    assert '<section id="journey-share" hidden></section>' in html  # no journey URL offered any more


def test_a_journey_outside_the_scope_is_not_found(client: Client, case_handler: User, case: dict) -> None:
    place_workflow(case["workflow"]["id"], tags=["batch"])
    client.force_login(case_handler)
    assert client.get(case["url"]).status_code == 404
    make_journey("mirrored-outside", workflow_id=WF_OUTSIDE)
    assert client.get(reverse("journeys:detail", kwargs={"journey_id": "mirrored-outside"})).status_code == 404


def test_an_unknown_journey_is_not_found(root_client: Client, mint_settings) -> None:
    assert root_client.get(reverse("journeys:detail", kwargs={"journey_id": "no-such-journey"})).status_code == 404


def test_a_journey_name_that_looks_like_html_is_shown_as_text(root_client: Client, api: Api, mint_settings) -> None:
    workflow = api.create_workflow({"steps": [step("name", "set-name", template="<script>alert(1)</script>"),
                                              step("wait", "suspend")],
                                    "connections": [link("name", "wait")]})
    started = api.start(workflow["id"])
    html = root_client.get(reverse("journeys:detail", kwargs={"journey_id": started["journeyId"]})).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_continuing_a_suspended_step_moves_the_journey_on(root_client: Client, case: dict, api: Api,
                                                         superuser: User) -> None:
    url = reverse("journeys:resume", kwargs={"journey_id": case["journey_id"]})
    root_client.get(case["url"])
    response = root_client.post(url, {"step_id": "review", "input": "decision=accepted\nchecked_by=Ann"})
    assert response.status_code == 302
    assert api.journey(case["journey_id"])["status"] == "finished"
    assert api.journey(case["journey_id"])["stepData"]["review"] == {"decision": "accepted", "checked_by": "Ann"}
    assert Journey.objects.get(pk=case["journey_id"]).status == "finished"
    event = AuditEvent.objects.get(action="journey.resume")
    assert (event.outcome, event.actor, event.journey_id) == ("ok", superuser, case["journey_id"])
    assert event.detail == {"step_id": "review", "input_keys": ["checked_by", "decision"]}
    page = root_client.get(response["Location"]).content.decode()
    assert "Continued step “review”" in page


def test_continuing_with_htmx_sends_the_browser_back_to_the_page(root_client: Client, case: dict) -> None:
    url = reverse("journeys:resume", kwargs={"journey_id": case["journey_id"]})
    root_client.get(case["url"])
    response = root_client.post(url, {"step_id": "review", "input": '{"decision": "ok"}'}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == case["url"]


def test_invalid_resume_input_is_shown_in_place_and_kept(root_client: Client, case: dict, api: Api) -> None:
    url = reverse("journeys:resume", kwargs={"journey_id": case["journey_id"]})
    root_client.get(case["url"])
    response = root_client.post(url, {"step_id": "review", "input": '{"decision": '}, **HTMX)
    html = response.content.decode().strip()
    assert response.status_code == 400
    assert html.startswith('<section id="journey-actions"')
    assert "This is not valid JSON" in html
    assert "{&quot;decision&quot;: </textarea>" in html
    assert api.journey(case["journey_id"])["status"] == "active"
    assert not AuditEvent.objects.filter(action="journey.resume").exists()


def test_a_step_that_no_longer_waits_is_refused_before_mint_is_asked(
    root_client: Client, case: dict, api: Api, sandbox
) -> None:
    root_client.get(case["url"])
    api.post(f"journeys/{case['journey_id']}/resume", json={"stepId": "review", "input": {}})
    sandbox.reset_counters()
    url = reverse("journeys:resume", kwargs={"journey_id": case["journey_id"]})
    response = root_client.post(url, {"step_id": "review", "input": "a=b"})
    assert response.status_code == 409
    assert "The journey has ended (finished); there is nothing left to continue." in response.content.decode()
    assert sandbox.count("resumeJourney") == 0
    event = AuditEvent.objects.get(action="journey.resume")
    assert event.outcome == "refused" and event.detail["step_id"] == "review"


def test_mints_refusal_to_continue_is_shown_and_audited_as_failed(
    root_client: Client, case: dict, sandbox
) -> None:
    root_client.get(case["url"])
    # Someone else continues the step between the portal's check and its call: Mint answers 409.
    sandbox.add_fault(path=r"/resume$", method="POST", status=409, times=1)
    url = reverse("journeys:resume", kwargs={"journey_id": case["journey_id"]})
    response = root_client.post(url, {"step_id": "review", "input": "a=b"})
    assert response.status_code == 400
    assert "has changed meanwhile" in response.content.decode()
    event = AuditEvent.objects.get(action="journey.resume")
    assert event.outcome == "failed" and event.trace_id


def test_a_role_without_continue_may_not_resume(client: Client, operator: User, case: dict) -> None:
    client.force_login(operator)
    client.get(case["url"])
    url = reverse("journeys:resume", kwargs={"journey_id": case["journey_id"]})
    response = client.post(url, {"step_id": "review", "input": ""})
    assert response.status_code == 403
    assert "continuing manual steps" in response.content.decode()


def test_a_new_journey_url_is_shown_with_copy_button_qr_code_and_expiry(root_client: Client, form_case: dict) -> None:
    case = form_case
    url = reverse("journeys:url", kwargs={"journey_id": case["journey_id"]})
    response = root_client.post(url, {"time_to_live": 3600}, **HTMX)
    html = response.content.decode().strip()
    assert response.status_code == 200
    assert html.startswith('<section id="journey-share"')
    shared = re.search(r'id="shared-url" type="text" readonly value="([^"]+)"', html).group(1)
    assert f"/journey/{case['journey_id']}" in shared.replace("&amp;", "&")
    assert 'data-copy="#shared-url"' in html
    assert 'src="data:image/svg+xml' in html
    assert "Expires" in html and "1 h" in html
    event = AuditEvent.objects.get(action="journey.url_create")
    assert event.detail["time_to_live"] == 3600
    assert shared.split("?")[0] not in str(event.detail) + event.summary


@pytest.mark.parametrize("ttl", ["-1", "2592001", "soon"])
def test_a_journey_url_lifetime_outside_the_limits_is_refused_in_place(root_client: Client, form_case: dict,
                                                                      ttl: str) -> None:
    url = reverse("journeys:url", kwargs={"journey_id": form_case["journey_id"]})
    response = root_client.post(url, {"time_to_live": ttl}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="field-error"' in html and f'value="{ttl}"' in html
    assert not AuditEvent.objects.filter(action="journey.url_create").exists()


def test_notes_are_added_listed_newest_first_searched_and_edited(root_client: Client, case: dict,
                                                                superuser: User) -> None:
    add = reverse("journeys:note_add", kwargs={"journey_id": case["journey_id"]})
    first = root_client.post(add, {"content": "Called the customer"}, **HTMX)
    assert first.status_code == 200
    assert first.content.decode().strip().startswith('<div id="journey-notes"')
    html = root_client.post(add, {"content": "Documents received"}, **HTMX).content.decode()
    assert html.index("Documents received") < html.index("Called the customer")
    assert "<strong>root</strong>" in html
    assert 'hx-swap-oob="beforeend"' in html and "Added your note." in html

    found = root_client.get(case["url"], {"region": "notes", "note_q": "documents"}, **HTMX).content.decode()
    assert "Documents received" in found and "Called the customer" not in found

    note_id = AuditEvent.objects.filter(action="note.create").order_by("at").first().detail["note_id"]
    edit = reverse("journeys:note_edit", kwargs={"journey_id": case["journey_id"], "note_id": note_id})
    form = root_client.get(edit, **HTMX).content.decode()
    assert "Called the customer</textarea>" in form
    saved = root_client.post(edit, {"content": "Called the customer twice"}, **HTMX).content.decode()
    assert saved.strip().startswith(f'<li class="note" id="note-{note_id}"')
    assert "Called the customer twice" in saved
    assert AuditEvent.objects.filter(action="note.update", outcome="ok").count() == 1


def test_a_note_over_1000_characters_is_refused_and_kept(root_client: Client, case: dict) -> None:
    add = reverse("journeys:note_add", kwargs={"journey_id": case["journey_id"]})
    text = "x" * 1001
    response = root_client.post(add, {"content": text}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 400
    assert "at most 1000 characters" in html and f"{text}</textarea>" in html
    assert not AuditEvent.objects.filter(action="note.create").exists()


def test_journey_files_download_through_the_portal(root_client: Client, case: dict, api: Api) -> None:
    file = api.journey(case["journey_id"])["files"][0]
    url = reverse("journeys:file", kwargs={"journey_id": case["journey_id"], "file_id": file["id"]})
    response = root_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;") and "letter.txt" in response["Content-Disposition"]
    assert response.content == b"Dear Kari Nordmann"


def test_when_mint_is_down_the_page_shows_the_mirror_row_and_says_so(root_client: Client, case: dict,
                                                                     settings) -> None:
    root_client.get(case["url"])
    settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    response = root_client.get(case["url"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Live details are unavailable" in html and 'id="mint-outage"' in html
    assert "Case for Kari Nordmann" in html
    assert "Traceback" not in html


def test_when_mint_is_down_an_unmirrored_journey_gets_the_unavailable_page(root_client: Client, settings) -> None:
    settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    settings.MINT_MAX_RETRIES = 0
    response = root_client.get(reverse("journeys:detail", kwargs={"journey_id": unique("j")}))
    assert response.status_code == 503
    assert "Mint is unavailable" in response.content.decode()


def test_loops_show_each_iterations_step_data(root_client: Client, api: Api, mint_settings) -> None:
    definition = {
        "steps": [step("each", "for-each", items="{{ input.people }}"),
                  step("greet", "trigger-alert", severity="info", message="Hello {{ loop.item.name }}"),
                  step("after", "suspend")],
        "connections": [link("each", "greet", "Iterate"), link("each", "after", "Done")],
    }
    journey = api.run(definition, {"people": [{"name": "Ada"}, {"name": "Alan"}]})
    html = root_client.get(reverse("journeys:detail", kwargs={"journey_id": journey["id"]})).content.decode()
    loops = html[html.index("<h2>Loops</h2>"):html.index("Execution log")]
    assert "2 iterations" in loops
    assert "Iteration 0" in loops and "Iteration 1" in loops
    assert "Hello Ada" in loops and "Hello Alan" in loops
    # The loop back from the last step of an iteration is not a connection, so nothing is drawn dashed here.
    assert 'class="edge edge-back"' not in html


def test_a_note_can_be_edited_on_its_own_page_without_javascript(root_client: Client, case: dict) -> None:
    add = reverse("journeys:note_add", kwargs={"journey_id": case["journey_id"]})
    response = root_client.post(add, {"content": "First words"})
    assert response.status_code == 302 and response["Location"].endswith("#journey-notes")
    note_id = AuditEvent.objects.get(action="note.create").detail["note_id"]
    edit = reverse("journeys:note_edit", kwargs={"journey_id": case["journey_id"], "note_id": note_id})
    page = root_client.get(edit).content.decode()
    assert "<h1>Edit note</h1>" in page and "First words</textarea>" in page
    assert root_client.post(edit, {"content": "   "}).status_code == 400
    response = root_client.post(edit, {"content": "Better words"}, follow=True)
    html = response.content.decode()
    assert "Better words" in html and "Saved your changes to the note." in html


def test_a_page_view_writes_the_journeys_mirror_row_once(root_client: Client, case: dict) -> None:
    # The journey is not mirrored yet: the access check reads it without writing, the page's refresh writes it.
    assert not Journey.objects.filter(pk=case["journey_id"]).exists()
    with CaptureQueriesContext(connection) as captured:
        assert root_client.get(case["url"]).status_code == 200
    writes = [query["sql"] for query in captured.captured_queries
              if query["sql"].startswith(('INSERT INTO "journeys_journey"', 'UPDATE "journeys_journey"'))]
    assert len(writes) == 1


def test_notes_mint_cannot_give_leave_the_rest_of_the_page_live(root_client: Client, case: dict,
                                                                 sandbox: SandboxProcess) -> None:
    sandbox.add_fault(path=r"^/mint/journeys/[^/]+/notes$", method="GET", status=503)
    response = root_client.get(case["url"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Notes are in Mint, which cannot be reached right now." in html
    assert "Execution log" in html and "Continue this step" in html
    assert "Live details are unavailable" not in html


def test_a_workflow_mint_cannot_give_leaves_out_only_the_graph(root_client: Client, case: dict,
                                                               sandbox: SandboxProcess) -> None:
    sandbox.add_fault(path=r"^/mint/workflows/", method="GET", status=503)
    response = root_client.get(case["url"])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Case for Kari Nordmann" in html and "Execution log" in html
    assert 'class="step step-active"' not in html
    assert "Live details are unavailable" not in html
