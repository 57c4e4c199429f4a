"""The journey engine: each step type's path, statuses, step data, loops, alerts, files, log and waits."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from tests.sandbox.helpers import Api, chain, invalid_names, link, step
from tests.sandbox_process import SandboxProcess


def test_a_journey_of_non_interactive_steps_runs_to_the_end(api: Api) -> None:
    journey = api.run(chain(step("name", "set-name", template="{{ input.firstName }} {{ input.lastName }}"),
                            step("end", "finish")), {"firstName": "Ada", "lastName": "Lovelace"})
    assert journey["status"] == "finished"
    assert journey["name"] == "Ada Lovelace"
    assert journey["stepData"]["name"] == {"name": "Ada Lovelace"}
    assert journey["finishedAt"] is not None
    assert journey["lastExecutedAt"] is not None
    assert journey["activeSteps"] == []
    assert set(journey) == {"id", "workflowId", "version", "status", "name", "createdAt", "lastExecutedAt",
                            "finishedAt", "faultedAt", "cancelledAt", "stepData", "loops", "activeSteps", "alerts",
                            "files", "input"}  # input: the sandbox's extension (README, "Extensions beyond Mint's API")


def test_a_path_that_ends_without_a_finish_step_finishes_the_journey(api: Api) -> None:
    assert api.run(chain(step("name", "set-name", template="x")))["status"] == "finished"


def test_starting_answers_the_waiting_step_and_a_journey_url(api: Api, sandbox: SandboxProcess) -> None:
    workflow = api.create_workflow(chain(step("form", "form", fields=[{"name": "email"}]), step("end", "finish")))
    started = api.start(workflow["id"])
    assert started["stepId"] == "form"
    assert started["journeyUrl"].startswith(f"{sandbox.root_url}/journey/{started['journeyId']}?t=")
    journey = api.journey(started["journeyId"])
    assert journey["status"] == "active"
    assert journey["activeSteps"] == [{"stepId": "form", "stepType": "form"}]


@pytest.mark.parametrize(("left", "operator", "right", "outcome"), [
    ("{{ input.age }}", "gt", 17, "True"),
    ("{{ input.age }}", "lt", 17, "False"),
    ("{{ input.age }}", "eq", "42", "True"),
    ("{{ input.country }}", "ne", "NO", "False"),
    ("{{ input.email }}", "contains", "@example", "True"),
])
def test_if_else_follows_the_outcome_of_its_comparison(api: Api, left: str, operator: str, right: Any,
                                                       outcome: str) -> None:
    definition = {
        "steps": [step("check", "if-else", left=left, operator=operator, right=right),
                  step("yes", "set-name", template="yes"), step("no", "set-name", template="no")],
        "connections": [link("check", "yes", "True"), link("check", "no", "False")],
    }
    journey = api.run(definition, {"age": 42, "country": "NO", "email": "a@example.com"})
    assert journey["name"] == ("yes" if outcome == "True" else "no")
    assert journey["stepData"]["check"]["result"] is (outcome == "True")


def test_for_each_runs_its_branch_per_item_and_fills_loops(api: Api) -> None:
    definition = {
        "steps": [step("each", "for-each", items="{{ input.people }}"),
                  step("greet", "trigger-alert", severity="info", message="Hello {{ loop.item.name }}"),
                  step("label", "set-name", template="#{{ loop.index }} {{ steps.greet.message }}"),
                  step("after", "set-name", template="done after {{ steps.each.count }}")],
        "connections": [link("each", "greet", "Iterate"), link("greet", "label"), link("each", "after", "Done")],
    }
    journey = api.run(definition, {"people": [{"name": "Ada"}, {"name": "Alan"}]})
    assert journey["status"] == "finished"
    assert journey["name"] == "done after 2"
    loops = journey["loops"]["each"]
    assert [entry["index"] for entry in loops] == [0, 1]
    assert loops[1]["stepData"]["greet"]["message"] == "Hello Alan"
    assert loops[0]["stepData"]["label"] == {"name": "#0 Hello Ada"}
    assert [alert["message"] for alert in journey["alerts"]] == ["Hello Ada", "Hello Alan"]
    log = api.log(journey["id"])
    assert [s["stepId"] for s in log["steps"]] == ["each", "greet", "label", "greet", "label", "after"]
    assert log["steps"][0]["status"] == {"name": "finished", "outcome": "Done"}


def test_for_each_over_something_that_is_not_a_list_faults(api: Api) -> None:
    journey = api.run(chain(step("each", "for-each", items="{{ input.missing }}")))
    assert journey["status"] == "faulted"
    assert journey["faultedAt"] is not None


def test_a_step_waiting_inside_a_loop_continues_in_its_iteration(api: Api) -> None:
    definition = {
        "steps": [step("each", "for-each", items="{{ input.items }}"), step("hold", "suspend"),
                  step("end", "set-name", template="all resumed")],
        "connections": [link("each", "hold", "Iterate"), link("each", "end", "Done")],
    }
    journey = api.run(definition, {"items": ["a", "b"]})
    for value in ("first", "second"):
        assert journey["activeSteps"] == [{"stepId": "hold", "stepType": "suspend"}]
        assert api.post(f"journeys/{journey['id']}/resume", json={"stepId": "hold", "input": {"v": value}}
                        ).status_code == 204
        journey = api.journey(journey["id"])
    assert journey["status"] == "finished"
    assert [entry["stepData"]["hold"] for entry in journey["loops"]["each"]] == [{"v": "first"}, {"v": "second"}]


def test_trigger_alert_adds_an_alert_shown_in_the_listing_too(api: Api) -> None:
    journey = api.run(chain(step("alert", "trigger-alert", severity="critical", message="Risk {{ input.score }}")),
                      {"score": 91})
    assert len(journey["alerts"]) == 1
    alert = journey["alerts"][0]
    assert (alert["stepId"], alert["severity"], alert["message"]) == ("alert", "critical", "Risk 91")
    assert alert["timestamp"]
    listed = api.get("journeys", params={"search": journey["id"]}).json()["data"][0]
    assert listed["alerts"] == journey["alerts"]


def test_a_waiting_step_resumes_by_the_clock(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.freeze_clock()
    journey = api.run(chain(step("pause", "waiting", delay=3600), step("end", "set-name", template="woke")))
    assert journey["status"] == "active"
    assert journey["activeSteps"] == [{"stepId": "pause", "stepType": "waiting"}]
    sandbox.advance_clock(3599)
    assert api.journey(journey["id"])["status"] == "active"
    sandbox.advance_clock(2)
    woke = api.journey(journey["id"])
    assert (woke["status"], woke["name"]) == ("finished", "woke")


def test_a_waiting_step_resumes_without_anyone_polling(api: Api, sandbox: SandboxProcess) -> None:
    journey = api.run(chain(step("pause", "waiting", delay="1")))
    assert journey["status"] == "active"
    # The scheduler thread ticks once a second: poll for its effect with a deadline.
    deadline = time.monotonic() + 10
    while api.journey(journey["id"])["status"] != "finished" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.journey(journey["id"])["status"] == "finished"


def test_suspend_waits_for_resume_whose_input_becomes_its_output(api: Api) -> None:
    journey = api.run(chain(step("hold", "suspend"), step("end", "finish")))
    assert journey["status"] == "active"
    response = api.post(f"journeys/{journey['id']}/resume", json={"stepId": "hold", "input": {"checked": True}})
    assert response.status_code == 204
    resumed = api.journey(journey["id"])
    assert resumed["status"] == "finished"
    assert resumed["stepData"]["hold"] == {"checked": True}


@pytest.mark.parametrize(("approved", "outcome"), [(True, "Approved"), (False, "Rejected")])
def test_require_approval_follows_the_decision(api: Api, approved: bool, outcome: str) -> None:
    definition = {
        "steps": [step("approval", "require-approval"), step("yes", "set-name", template="approved"),
                  step("no", "set-name", template="rejected")],
        "connections": [link("approval", "yes", "Approved"), link("approval", "no", "Rejected")],
    }
    journey = api.run(definition)
    response = api.post(f"journeys/{journey['id']}/approve",
                        json={"stepId": "approval", "input": {"approved": approved, "message": "Checked"}})
    assert response.status_code == 204
    decided = api.journey(journey["id"])
    assert decided["name"] == outcome.lower()
    assert decided["stepData"]["approval"] == {"approved": approved, "message": "Checked"}
    log = api.log(journey["id"])
    assert log["steps"][0]["status"] == {"name": "finished", "outcome": outcome}


@pytest.mark.parametrize(("body", "bad_name"), [
    ({"stepId": "approval"}, "input"),
    ({"stepId": "approval", "input": {}}, "input.approved"),
    ({"stepId": "approval", "input": {"approved": "yes"}}, "input.approved"),
    ({"stepId": "approval", "input": "approved"}, "input"),
    ({"input": {"approved": True}}, "stepId"),
    ({"stepId": "s" * 51, "input": {"approved": True}}, "stepId"),
    ({"stepId": "nowhere", "input": {"approved": True}}, "stepId"),
])
def test_approve_checks_its_body(api: Api, body: dict[str, Any], bad_name: str) -> None:
    journey = api.run(chain(step("approval", "require-approval")))
    assert bad_name in invalid_names(api.post(f"journeys/{journey['id']}/approve", json=body))
    assert api.journey(journey["id"])["status"] == "active"


def test_resume_and_approve_on_a_step_that_is_not_waiting_are_409(api: Api) -> None:
    journey = api.run(chain(step("hold", "suspend"), step("approval", "require-approval"), step("end", "finish")))
    approve = {"stepId": "approval", "input": {"approved": True}}
    assert api.post(f"journeys/{journey['id']}/approve", json=approve).status_code == 409
    assert api.post(f"journeys/{journey['id']}/approve", json={**approve, "stepId": "hold"}).status_code == 409
    assert api.post(f"journeys/{journey['id']}/resume", json={"stepId": "hold"}).status_code == 204
    assert api.post(f"journeys/{journey['id']}/resume", json={"stepId": "hold"}).status_code == 409
    assert api.post(f"journeys/{journey['id']}/resume", json={"stepId": "approval"}).status_code == 409
    assert api.post(f"journeys/{journey['id']}/approve", json=approve).status_code == 204
    assert api.post(f"journeys/{journey['id']}/approve", json=approve).status_code == 409
    assert api.post("journeys/nope/approve", json=approve).status_code == 404


def test_resume_names_a_step_the_workflow_does_not_have(api: Api) -> None:
    journey = api.run(chain(step("hold", "suspend")))
    assert invalid_names(api.post(f"journeys/{journey['id']}/resume", json={"stepId": "ghost"})) == ["stepId"]
    assert invalid_names(api.post(f"journeys/{journey['id']}/resume", json={"stepId": "hold", "input": [1]})
                         ) == ["input"]


def test_concurrent_resumes_of_one_step_let_exactly_one_win(api: Api, sandbox: SandboxProcess) -> None:
    journey = api.run(chain(step("hold", "suspend"), step("end", "set-name", template="once")))
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    lock = threading.Lock()

    def resume() -> None:
        barrier.wait()
        response = requests.post(f"{sandbox.base_url}/journeys/{journey['id']}/resume",
                                 json={"stepId": "hold", "input": {"by": threading.get_ident()}},
                                 headers={"Authorization": f"Bearer {api.token}"}, timeout=30)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=resume) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [204] + [409] * 7
    log = api.log(journey["id"])
    assert [s["stepId"] for s in log["steps"]] == ["hold", "end"]


def test_generate_document_adds_a_text_file_that_can_be_downloaded(api: Api) -> None:
    journey = api.run(chain(step("doc", "generate-document", filename="{{ input.name }}.txt",
                                 content="Dear {{ input.name }}")), {"name": "Ada"})
    file = journey["files"][0]
    assert file == {"stepId": "doc", "id": file["id"], "filename": "Ada.txt",
                    "contentType": "text/plain; charset=utf-8", "size": 8}
    download = api.get(f"journeys/{journey['id']}/files/{file['id']}")
    assert download.content == b"Dear Ada"
    assert 'filename="Ada.txt"' in download.headers["Content-Disposition"]
    assert api.get(f"journeys/{journey['id']}/files/nope").status_code == 404


def test_generate_document_can_render_a_pdf(api: Api) -> None:
    journey = api.run(chain(step("doc", "generate-document", filename="contract.pdf", format="pdf",
                                 content="Contract for (Ada)\nSigned")))
    file = journey["files"][0]
    content = api.get(f"journeys/{journey['id']}/files/{file['id']}").content
    assert file["contentType"] == "application/pdf"
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    assert b"(Contract for \\(Ada\\)) '" in content
    assert file["size"] == len(content)


def test_send_email_records_the_message_in_the_outbox(api: Api, sandbox: SandboxProcess) -> None:
    journey = api.run(chain(step("mail", "send-email", to="{{ input.email }}", subject="Welcome",
                                 body="Hi {{ input.email }}")), {"email": "ada@example.com"})
    outbox = sandbox.control("GET", "outbox").json()
    message = next(m for m in outbox if m["journeyId"] == journey["id"])
    assert (message["to"], message["subject"], message["body"]) == ("ada@example.com", "Welcome",
                                                                    "Hi ada@example.com")
    assert journey["stepData"]["mail"]["to"] == "ada@example.com"


def test_a_fault_step_faults_the_journey_with_its_message(api: Api) -> None:
    journey = api.run(chain(step("before", "set-name", template="x"), step("boom", "fault", message="No credit")))
    assert journey["status"] == "faulted"
    assert journey["faultedAt"] is not None
    assert journey["finishedAt"] is None
    log = api.log(journey["id"])
    assert log["stepsFinished"] == 1
    assert log["stepsFaulted"] == 1
    faulted = log["steps"][1]
    assert faulted["status"] == {"name": "faulted", "message": "No credit"}
    assert faulted["events"][-1]["eventName"] == "StepFaulted"


def test_a_long_for_each_is_not_taken_for_an_endless_loop(api: Api) -> None:
    definition = {
        "steps": [step("each", "for-each", items="{{ input.items }}"), step("a", "set-name", template="a"),
                  step("b", "set-name", template="{{ loop.index }}")],
        "connections": [link("each", "a", "Iterate"), link("a", "b")],
    }
    journey = api.run(definition, {"items": list(range(300))})
    assert journey["status"] == "finished"
    assert len(journey["loops"]["each"]) == 300


def test_a_workflow_looping_without_waiting_is_faulted(api: Api) -> None:
    definition = {"steps": [step("a", "set-name", template="x"), step("b", "if-else", left="1", operator="eq",
                                                                       right=1)],
                  "connections": [link("a", "b"), link("b", "b", "True")]}
    assert api.run(definition)["status"] == "faulted"


def test_the_log_records_each_step_with_its_events(api: Api) -> None:
    journey = api.run(chain(step("hold", "suspend"), step("end", "finish")))
    waiting = api.log(journey["id"])
    assert waiting["steps"][0]["status"] == {"name": "waiting"}
    assert waiting["steps"][0]["endedAt"] is None
    api.post(f"journeys/{journey['id']}/resume", json={"stepId": "hold"})
    log = api.log(journey["id"])
    assert (log["stepsFinished"], log["stepsFaulted"]) == (2, 0)
    first = log["steps"][0]
    assert set(first) == {"stepId", "stepType", "startedAt", "endedAt", "status", "events"}
    assert first["stepType"] == "suspend"
    assert [e["eventName"] for e in first["events"]] == ["StepStarted", "StepWaiting", "StepCompleted"]
    assert set(first["events"][0]) == {"id", "timestamp", "eventName", "message", "outcomes"}
    assert first["events"][-1]["outcomes"] == ["Done"]
    assert api.get("journeys/nope/log").status_code == 404


def test_journeys_left_waiting_past_the_inactivity_limit_are_cancelled(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.freeze_clock()
    sandbox.set_config(inactivityLimit=600)
    journey = api.run(chain(step("hold", "suspend")))
    sandbox.advance_clock(599)
    assert api.journey(journey["id"])["status"] == "active"
    sandbox.advance_clock(2)
    cancelled = api.journey(journey["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelledAt"] is not None
    assert cancelled["activeSteps"] == []
    assert api.post(f"journeys/{journey['id']}/resume", json={"stepId": "hold"}).status_code == 409


def test_a_journey_can_be_cancelled_from_outside(api: Api, sandbox: SandboxProcess) -> None:
    journey = api.run(chain(step("hold", "suspend")))
    assert sandbox.control("POST", f"journeys/{journey['id']}/cancel").status_code == 204
    assert api.journey(journey["id"])["status"] == "cancelled"
    response = sandbox.http.post(f"{sandbox.root_url}/_sandbox/journeys/{journey['id']}/cancel", timeout=10)
    assert response.status_code == 409


@pytest.mark.parametrize(("ttl", "status"), [(1, 201), ("604800", 201), (0, 400), (604801, 400), ("01", 400),
                                             (1.5, 400), (None, 201)])
def test_journey_url_ttl_on_start_is_checked(api: Api, ttl: Any, status: int) -> None:
    workflow = api.create_workflow(chain(step("hold", "suspend")))
    response = api.post(f"workflows/{workflow['id']}/journeys", json={"journeyUrlTtl": ttl})
    assert response.status_code == status
    if status == 400:
        assert invalid_names(response) == ["journeyUrlTtl"]


def test_a_rejected_start_creates_no_journey(api: Api) -> None:
    workflow = api.create_workflow(chain(step("hold", "suspend")))
    assert api.post(f"workflows/{workflow['id']}/journeys", json={"input": "text"}).status_code == 400
    assert api.get("journeys", params={"workflowId": workflow["id"]}).json()["totalCount"] == 0


def test_input_keys_outside_the_declared_input_parameters_are_rejected(api: Api) -> None:
    workflow = api.create_workflow(chain(step("n", "set-name", template="{{ input.email }}")),
                                   inputParameters=[{"name": "email"}])
    response = api.post(f"workflows/{workflow['id']}/journeys", json={"input": {"email": "a@b.c", "age": 3}})
    assert invalid_names(response) == ["input.age"]
    assert api.start(workflow["id"], {"email": "a@b.c"})["journeyId"]


def test_unknown_journeys_are_404(api: Api) -> None:
    assert api.get("journeys/nope").status_code == 404
    assert api.post("journeys/nope/resume", json={"stepId": "x"}).status_code == 404
    assert api.post("journeys/nope/url", json={}).status_code == 404
