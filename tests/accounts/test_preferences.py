"""The colour theme: following the system by default, a choice remembered per user (not per browser), and a bad
choice answered 400."""

from __future__ import annotations

import importlib.util

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import UserPreference

pytestmark = pytest.mark.django_db
THEME = reverse("accounts:theme")


@pytest.fixture
def person(db: None) -> User:
    return User.objects.create_user("ada", password="mintdemo")


def html_tag(client: Client) -> str:
    page = client.get(reverse("journeys:list")).content.decode()
    return page[page.index("<html"):page.index(">", page.index("<html")) + 1]


def test_pages_follow_the_system_until_the_user_chooses(client: Client, person: User) -> None:
    client.force_login(person)
    assert html_tag(client) == '<html lang="en">'
    assert 'value="dark" class="theme-toggle"' in client.get(reverse("journeys:list")).content.decode()


def test_a_chosen_theme_is_remembered_for_the_user_in_every_browser(person: User) -> None:
    first, second = Client(), Client()
    first.force_login(person)
    response = first.post(THEME, {"theme": "dark", "next": "/journeys/?status=active"})
    assert response.status_code == 302 and response["Location"] == "/journeys/?status=active"
    second.force_login(person)
    assert html_tag(second) == '<html lang="en" data-theme="dark">'
    assert UserPreference.objects.get(user=person).theme == "dark"
    second.post(THEME, {"theme": "system"})
    assert html_tag(first) == '<html lang="en">'


@pytest.mark.parametrize("data", [{"theme": "purple"}, {}])
def test_an_unknown_theme_answers_400_naming_the_choices(client: Client, person: User, data: dict) -> None:
    client.force_login(person)
    response = client.post(THEME, data)
    assert response.status_code == 400
    assert b"system, light or dark" in response.content
    assert not UserPreference.objects.exists()


def test_it_never_sends_the_user_to_another_site(client: Client, person: User) -> None:
    client.force_login(person)
    response = client.post(THEME, {"theme": "light", "next": "https://evil.example/"})
    assert response["Location"] == reverse("accounts:dashboard")


def test_signed_out_visitors_cannot_set_a_theme(client: Client) -> None:
    response = client.post(THEME, {"theme": "dark"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def _theme_queries(client: Client, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("journeys:list"), headers=headers).status_code == 200
    return sum("accounts_userpreference" in query["sql"] for query in queries.captured_queries)


def test_the_theme_comes_from_the_context_processor_in_one_query_and_only_when_the_layout_is_drawn(
        client: Client, person: User) -> None:
    UserPreference.objects.create(user=person, theme="dark")
    client.force_login(person)
    assert importlib.util.find_spec("accounts.templatetags") is None
    assert _theme_queries(client) == 1
    assert 'data-theme-current="dark"' in client.get(reverse("journeys:list")).content.decode()
    # An htmx region draws no layout, so the theme is never read.
    assert _theme_queries(client, HX_Request="true") == 0
