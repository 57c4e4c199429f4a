"""The end-user page behind journey URLs: GET shows, POST (with CSRF) acts, expired links answer 410."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests.sandbox.helpers import Api, chain, invalid_names, step
from tests.sandbox_process import SandboxProcess

FORM = chain(step("details", "form", fields=[
    {"name": "email", "label": "Email address", "type": "email", "required": True},
    {"name": "age", "label": "Age", "type": "number"},
    {"name": "terms", "label": "I accept", "type": "checkbox", "required": True},
]), step("name", "set-name", template="{{ steps.details.email }}"))


def csrf_token(page: requests.Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def submit(browser: requests.Session, url: str, **fields: Any) -> requests.Response:
    page = browser.get(url, timeout=10)
    return browser.post(url, data={"csrfmiddlewaretoken": csrf_token(page), **fields}, timeout=10,
                        headers={"Referer": url}, allow_redirects=False)


def test_the_page_shows_the_form_and_a_get_does_not_act(api: Api) -> None:
    workflow = api.create_workflow(FORM)
    started = api.start(workflow["id"])
    page = requests.get(started["journeyUrl"], timeout=10)
    assert page.status_code == 200
    assert "Email address" in page.text
    assert 'type="email"' in page.text
    requests.get(started["journeyUrl"], timeout=10)
    assert api.journey(started["journeyId"])["status"] == "active"


def test_posting_the_form_completes_the_step_and_moves_the_journey_on(api: Api) -> None:
    workflow = api.create_workflow(FORM)
    started = api.start(workflow["id"])
    browser = requests.Session()
    response = submit(browser, started["journeyUrl"], stepId="details", email="ada@example.com", age="36",
                      terms="on")
    assert response.status_code == 303
    journey = api.journey(started["journeyId"])
    assert journey["status"] == "finished"
    assert journey["stepData"]["details"] == {"email": "ada@example.com", "age": 36, "terms": True}
    assert journey["name"] == "ada@example.com"
    assert "nothing more to do" in browser.get(started["journeyUrl"], timeout=10).text


def test_a_form_missing_a_required_field_is_shown_again_with_the_error(api: Api) -> None:
    started = api.start(api.create_workflow(FORM)["id"])
    response = submit(requests.Session(), started["journeyUrl"], stepId="details", email="", terms="on")
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert api.journey(started["journeyId"])["status"] == "active"


def test_a_post_without_the_csrf_token_is_refused(api: Api) -> None:
    started = api.start(api.create_workflow(FORM)["id"])
    response = requests.post(started["journeyUrl"], data={"stepId": "details", "email": "a@b.c", "terms": "on"},
                             timeout=10)
    assert response.status_code == 403
    assert api.journey(started["journeyId"])["status"] == "active"


def test_a_second_post_of_the_same_step_is_409(api: Api) -> None:
    started = api.start(api.create_workflow(FORM)["id"])
    browser = requests.Session()
    page = browser.get(started["journeyUrl"], timeout=10)
    fields = {"csrfmiddlewaretoken": csrf_token(page), "stepId": "details", "email": "a@b.c", "terms": "on"}
    first = browser.post(started["journeyUrl"], data=fields, timeout=10, allow_redirects=False)
    second = browser.post(started["journeyUrl"], data=fields, timeout=10, allow_redirects=False)
    assert (first.status_code, second.status_code) == (303, 409)


@pytest.mark.parametrize(("action", "outcome", "name"), [("login", "Success", "Sven Svensson"),
                                                        ("abort", "Aborted", "aborted")])
def test_eid_login_offers_test_identities(api: Api, action: str, outcome: str, name: str) -> None:
    definition = {
        "steps": [step("login", "eid-login"), step("ok", "set-name", template="{{ steps.login.name }}"),
                  step("gone", "set-name", template="aborted")],
        "connections": [{"sourceStepId": "login", "targetStepId": "ok", "outcome": "Success"},
                        {"sourceStepId": "login", "targetStepId": "gone", "outcome": "Aborted"}],
    }
    started = api.start(api.create_workflow(definition)["id"])
    browser = requests.Session()
    assert "Kari Nordmann" in browser.get(started["journeyUrl"], timeout=10).text
    response = submit(browser, started["journeyUrl"], stepId="login", identity="1", action=action)
    assert response.status_code == 303
    journey = api.journey(started["journeyId"])
    assert journey["name"] == name
    assert api.log(started["journeyId"])["steps"][0]["status"]["outcome"] == outcome


def test_an_expired_link_answers_410(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.freeze_clock()
    workflow = api.create_workflow(FORM)
    started = api.start(workflow["id"], journeyUrlTtl=120)
    sandbox.advance_clock(119)
    assert requests.get(started["journeyUrl"], timeout=10).status_code == 200
    sandbox.advance_clock(2)
    page = requests.get(started["journeyUrl"], timeout=10)
    assert page.status_code == 410
    assert "This link has expired" in page.text


def test_a_new_url_can_be_made_for_a_journey(api: Api, sandbox: SandboxProcess) -> None:
    started = api.start(api.create_workflow(FORM)["id"])
    sandbox.advance_clock(61)
    assert requests.get(started["journeyUrl"], timeout=10).status_code == 410
    response = api.post(f"journeys/{started['journeyId']}/url", json={"timeToLive": 3600})
    assert response.status_code == 201
    assert set(response.json()) == {"journeyUrl"}
    assert requests.get(response.json()["journeyUrl"], timeout=10).status_code == 200


@pytest.mark.parametrize(("ttl", "status"), [(0, 201), (2592000, 201), ("60", 201), (-1, 400), (2592001, 400),
                                             ("1e3", 400), (True, 400)])
def test_url_time_to_live_is_checked(api: Api, ttl: Any, status: int) -> None:
    journey = api.run(chain(step("hold", "suspend")))
    response = api.post(f"journeys/{journey['id']}/url", json={"timeToLive": ttl})
    assert response.status_code == status
    if status == 400:
        assert invalid_names(response) == ["timeToLive"]


def test_a_url_with_time_to_live_zero_has_already_expired(api: Api) -> None:
    journey = api.run(FORM)
    url = api.post(f"journeys/{journey['id']}/url", json={"timeToLive": 0}).json()["journeyUrl"]
    assert requests.get(url, timeout=10).status_code == 410


@pytest.mark.parametrize("mangle", [lambda url: url[:-3] + "xyz", lambda url: url.split("?")[0],
                                    lambda url: url.replace("/journey/", "/journey/0")])
def test_a_forged_link_answers_404(api: Api, mangle: Any) -> None:
    started = api.start(api.create_workflow(FORM)["id"])
    assert requests.get(mangle(started["journeyUrl"]), timeout=10).status_code == 404


def test_the_page_escapes_workflow_text(api: Api) -> None:
    started = api.start(api.create_workflow(chain(step("f", "form", fields=[
        {"name": "x", "label": "<script>alert(1)</script>"}])))["id"])
    page = requests.get(started["journeyUrl"], timeout=10)
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
