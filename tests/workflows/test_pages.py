"""Workflow pages: the cached list, a workflow's page with its graph, files and versions, and version diffs."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, WorkflowRecord
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, link, step, unique
from tests.sandbox_process import free_port

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = reverse("workflows:list")


def branching() -> dict:
    """Asks for approval; Approved finishes, Rejected faults."""
    return {
        "steps": [step("check", "require-approval"), step("ok", "finish"), step("no", "fault", message="Rejected")],
        "connections": [link("check", "ok", "Approved"), link("check", "no", "Rejected")],
    }


def names(html: str) -> list[str]:
    return re.findall(r'class="name-cell"><a href="/workflows/[^"]+">([^<]+)</a>', html)


def test_the_list_shows_workflows_from_mint_and_only_the_table_for_htmx(root_client: Client, api: Api,
                                                                        mint_settings) -> None:
    tag = unique("list")
    for letter in "bca":
        api.create_workflow(branching(), name=f"{tag} {letter}")
    page = root_client.get(LIST, {"q": tag})
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert names(page.content.decode()) == [f"{tag} a", f"{tag} b", f"{tag} c"]
    region = root_client.get(LIST, {"q": tag, "sort": "-name"}, **HTMX).content.decode().strip()
    assert region.startswith('<section id="workflow-table"') and "<html" not in region
    assert names(region) == [f"{tag} c", f"{tag} b", f"{tag} a"]


def test_a_repeated_list_view_makes_no_call_to_mint(root_client: Client, api: Api, sandbox, mint_settings) -> None:
    tag = unique("cached")
    api.create_workflow(branching(), name=tag)
    root_client.get(LIST, {"q": tag})
    calls = sandbox.count("listWorkflows")
    assert names(root_client.get(LIST, {"q": tag}).content.decode()) == [tag]
    assert sandbox.count("listWorkflows") == calls


def test_the_version_filter_lists_published_versions(root_client: Client, api: Api, mint_settings) -> None:
    tag = unique("published")
    workflow = api.create_workflow(branching(), name=tag)
    api.put(f"workflows/{workflow['id']}", json={"name": f"{tag} v2", **branching()})
    api.post(f"workflows/{workflow['id']}/versions/1/publish")
    assert names(root_client.get(LIST, {"q": tag, "version": "latest"}).content.decode()) == [f"{tag} v2"]
    assert names(root_client.get(LIST, {"q": tag, "version": "published"}).content.decode()) == [tag]


def test_the_list_pages_twenty_at_a_time(root_client: Client, api: Api, mint_settings) -> None:
    tag = unique("paged")
    for index in range(22):
        api.create_workflow(branching(), name=f"{tag} {index:02d}")
    first = root_client.get(LIST, {"q": tag}).content.decode()
    assert len(names(first)) == 20 and "Page 1 of 2" in first
    second = root_client.get(LIST, {"q": tag, "page": 2}).content.decode()
    assert names(second) == [f"{tag} 20", f"{tag} 21"]


def test_a_scoped_user_sees_only_workflows_in_scope(client: Client, case_handler: User, api: Api,
                                                    mint_settings) -> None:
    tag = unique("scoped")
    inside = api.create_workflow(branching(), name=f"{tag} inside")
    api.create_workflow(branching(), name=f"{tag} outside")
    place_workflow(inside["id"], tags=["onboarding"], name=inside["name"])
    client.force_login(case_handler)
    assert names(client.get(LIST, {"q": tag}).content.decode()) == [f"{tag} inside"]


def test_when_mint_is_down_the_list_shows_the_portals_copy_and_the_banner(root_client: Client, settings) -> None:
    place_workflow("wf-known", tags=["onboarding"], name="Known onboarding")
    settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    settings.MINT_MAX_RETRIES = 0
    response = root_client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="mint-outage"' in html and "Mint cannot be reached" in html
    assert "Known onboarding" in html
    # The banner stays for the next pages too, even those that never call Mint.
    assert 'id="mint-outage"' in root_client.get(reverse("accounts:dashboard")).content.decode()


def test_a_workflows_page_draws_its_graph_and_lists_its_parts(root_client: Client, api: Api,
                                                              mint_settings) -> None:
    workflow = api.create_workflow(branching(), name=unique("graph"), description="Approve <b>loans</b>",
                                   tags=["loans"], inputParameters=[{"name": "amount"}], variables={"limit": 5})
    upload = api.post(f"workflows/{workflow['id']}/files", files={"file": ("terms.txt", b"Be nice", "text/plain")})
    assert upload.status_code in (200, 201), upload.text
    html = root_client.get(reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]})).content.decode()
    assert "Approve &lt;b&gt;loans&lt;/b&gt;" in html
    assert '<span class="tag">loans</span>' in html and '<code class="param">amount</code>' in html
    assert "&quot;limit&quot;: 5" in html
    assert html.count('<g class="step">') == 3
    assert ">Approved</text>" in html and ">Rejected</text>" in html
    assert 'marker-end="url(#arrow)"' in html
    file_url = re.search(r'href="(/workflows/[^"]+/files/[^"]+)" download>terms.txt', html).group(1)
    download = root_client.get(file_url)
    assert download.content == b"Be nice" and download["Content-Disposition"].startswith("attachment;")


def test_a_workflows_page_links_to_launch_when_the_user_may_launch(client: Client, operator: User,
                                                                   case_handler: User, api: Api,
                                                                   mint_settings) -> None:
    workflow = api.create_workflow(branching(), name=unique("launchable"))
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    url = reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]})
    launch = reverse("launches:new", kwargs={"workflow_id": workflow["id"]})
    client.force_login(operator)
    assert f'href="{launch}"' in client.get(url).content.decode()
    client.force_login(case_handler)
    assert f'href="{launch}"' not in client.get(url).content.decode()


def test_a_workflow_outside_the_scope_is_not_found(client: Client, case_handler: User, api: Api,
                                                   mint_settings) -> None:
    workflow = api.create_workflow(branching(), name=unique("hidden"))
    place_workflow(workflow["id"], tags=["batch"])
    client.force_login(case_handler)
    assert client.get(reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]})).status_code == 404


def test_two_versions_are_compared_side_by_side(root_client: Client, api: Api, mint_settings) -> None:
    workflow = api.create_workflow(branching(), name=unique("diff"))
    changed = branching()
    changed["steps"][2]["properties"] = {"message": "Declined by the bank"}
    api.put(f"workflows/{workflow['id']}", json={"name": workflow["name"], **changed})
    url = reverse("workflows:diff", kwargs={"workflow_id": workflow["id"]})
    response = root_client.get(url, {"left": 1, "right": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<td class="code del">\s*&quot;message&quot;: &quot;Rejected&quot;', html)
    assert re.search(r'<td class="code ins">\s*&quot;message&quot;: &quot;Declined by the bank&quot;', html)
    region = root_client.get(url, {"left": 2, "right": 2}, **HTMX).content.decode().strip()
    assert region.startswith('<section id="diff-table"')
    assert "define the same workflow" in region
    bad = root_client.get(url, {"left": "first", "right": 2}).content.decode()
    assert "Enter a whole number" in bad


def test_publishing_a_version_is_audited_and_shown(root_client: Client, api: Api, superuser: User,
                                                   mint_settings) -> None:
    workflow = api.create_workflow(branching(), name=unique("publish"))
    url = reverse("workflows:publish", kwargs={"workflow_id": workflow["id"], "version": 1})
    response = root_client.post(url, {"confirmed": "1"}, follow=True)
    assert "Published version 1" in response.content.decode()
    assert api.get(f"workflows/{workflow['id']}").json()["isPublished"] is True
    event = AuditEvent.objects.get(action="workflow.publish")
    assert (event.outcome, event.workflow_id, event.actor) == ("ok", workflow["id"], superuser)


def test_step_types_are_listed_and_searched(root_client: Client, mint_settings) -> None:
    url = reverse("workflows:step_types")
    html = root_client.get(url).content.decode()
    for step_type in ("form", "suspend", "require-approval", "generate-document", "finish"):
        assert f"<code>{step_type}</code>" in html
    region = root_client.get(url, {"q": "approval"}, **HTMX).content.decode().strip()
    assert region.startswith('<section id="step-type-table"')
    assert "<code>require-approval</code>" in region and "<code>form</code>" not in region
    assert '<span class="tag">Approved</span>' in region


def test_the_workflow_mirror_learns_of_created_workflows(root_client: Client, mint_settings) -> None:
    body = {"name": unique("mirror"), "tags": "kyc, loans", "input_parameters": "", "description": "",
            "steps": '[{"id": "end", "type": "finish"}]', "connections": "[]", "variables": ""}
    response = root_client.post(reverse("workflows:create"), body)
    assert response.status_code == 302
    created = WorkflowRecord.objects.get(name=body["name"])
    assert created.tags == ["kyc", "loans"] and created.version == 1
