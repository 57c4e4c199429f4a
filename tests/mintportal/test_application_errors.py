"""The portal's own refusals (mintportal.errors) are answered in one place, ApplicationErrorMiddleware: what the
user may not see is the 404 page, what they may not do the 403 page with its sentence, a refused request its
400 or 409 with the sentence (a flash for htmx), whichever view or selector raised it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from launches.models import BulkLaunch
from tests.personas import WF_INSIDE, WF_OUTSIDE

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_action_the_role_lacks_answers_the_403_page_with_the_policys_sentence(operator: User) -> None:
    response = signed_in(operator).get(reverse("operations:overview"))

    assert response.status_code == 403
    assert "Your role does not allow managing teams and scopes." in response.content.decode()


def test_something_outside_the_scope_answers_the_404_page_without_saying_why(operator: User) -> None:
    bulk = BulkLaunch.objects.create(workflow_id=WF_OUTSIDE, journey_url_ttl=60, created_by=operator,
                                     created_at=timezone.now())

    response = signed_in(operator).get(reverse("launches:bulk", kwargs={"bulk_id": bulk.id}))

    assert response.status_code == 404
    assert "There is nothing here, or you may not see it." in response.content.decode()


def test_a_bad_query_parameter_answers_400_naming_it(operator: User) -> None:
    bulk = BulkLaunch.objects.create(workflow_id=WF_INSIDE, journey_url_ttl=60, created_by=operator,
                                     created_at=timezone.now())
    url = reverse("launches:bulk", kwargs={"bulk_id": bulk.id}) + "?page=0"

    page = signed_in(operator).get(url)
    htmx = signed_in(operator).get(url, headers={"HX-Request": "true"})

    assert page.status_code == 400 and page["Content-Type"] == "text/plain; charset=utf-8"
    assert page.content.decode().startswith("Invalid parameter: page: ")
    # htmx swaps 400 answers: the sentence lands in the layout's flash area, not in the polled region.
    assert htmx.status_code == 400 and htmx["HX-Retarget"] == "#flash"
    assert "Invalid parameter: page: " in htmx.content.decode()


def test_a_refused_write_is_audited_before_it_is_answered(operator: User) -> None:
    response = signed_in(operator).post(reverse("workflows:create"), {"name": "x"})

    assert response.status_code == 403
    [event] = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED)
    assert (event.action, event.detail) == ("workflow.create", {"route": "workflows:create", "status": 403})
