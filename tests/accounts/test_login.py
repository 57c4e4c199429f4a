"""Signing in and out, and the navigation each role sees."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', html, re.S).group(1)
    # Each link's own text, before any count it carries.
    return [re.sub(r"<.*", "", inner, flags=re.S).strip() for inner in re.findall(r"<a\b[^>]*>(.*?)</a>", nav, re.S)]


def test_the_sign_in_page_asks_for_username_and_password(client: Client) -> None:
    html = client.get(LOGIN).content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "Sign in" in html
    assert 'class="mainnav"' not in html


def test_a_wrong_password_is_refused_and_the_username_kept(client: Client, case_handler: User) -> None:
    response = client.post(LOGIN, {"username": "handler", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "do not match" in html and 'value="handler"' in html
    assert "_auth_user_id" not in client.session


def test_signing_in_leads_to_the_page_asked_for(client: Client, case_handler: User) -> None:
    journeys = reverse("journeys:list")
    response = client.get(journeys)
    assert response["Location"] == f"{LOGIN}?next={journeys}"
    response = client.post(LOGIN, {"username": "handler", "password": PASSWORD, "next": journeys})
    assert response["Location"] == journeys
    assert client.get(journeys).status_code == 200


def test_signing_in_without_a_next_page_opens_the_dashboard(client: Client, case_handler: User) -> None:
    response = client.post(LOGIN, {"username": "handler", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:dashboard")
    assert "<h1>Dashboard</h1>" in response.content.decode()


def test_signing_out_ends_the_session(client: Client, case_handler: User) -> None:
    client.force_login(case_handler)
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == LOGIN
    assert client.get(reverse("accounts:dashboard")).status_code == 302


def test_each_role_sees_only_the_pages_it_may_use(client: Client, case_handler: User, operator: User,
                                                  admin: User, outsider: User) -> None:
    client.force_login(case_handler)
    assert nav_labels(client.get(reverse("accounts:dashboard")).content.decode()) == [
        "Dashboard", "Journeys", "My work", "Workflows", "Step types"]
    client.force_login(operator)
    assert nav_labels(client.get(reverse("accounts:dashboard")).content.decode()) == [
        "Dashboard", "Journeys", "Launches", "Workflows", "Step types"]
    client.force_login(admin)
    assert nav_labels(client.get(reverse("accounts:dashboard")).content.decode()) == [
        "Dashboard", "Journeys", "My work", "Launches", "Workflows", "Step types", "Secrets", "Audit", "Erasure",
        "Operations"]
    client.force_login(outsider)
    assert nav_labels(client.get(reverse("accounts:dashboard")).content.decode()) == ["Dashboard"]


def test_the_current_page_is_marked_in_the_navigation(client: Client, case_handler: User) -> None:
    client.force_login(case_handler)
    html = client.get(reverse("journeys:list")).content.decode()
    assert f'<a href="{reverse("journeys:list")}" class="active" aria-current="page">Journeys</a>' in html
    assert 'class="username">handler<' in html
