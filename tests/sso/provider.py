"""Drives the sandbox's OpenID Connect provider from tests: its control API (clients, people, faults) and a
plain HTTP walk through the authorize form, as a browser would post it."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.sandbox_process import SandboxProcess


def issuer(sandbox: SandboxProcess) -> str:
    return f"{sandbox.root_url}/oidc"


def register_client(sandbox: SandboxProcess, *, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
    sandbox.control("POST", "oidc/clients", json={"clientId": client_id, "clientSecret": client_secret,
                                                  "redirectUris": redirect_uris})


def add_person(sandbox: SandboxProcess, *, subject: str, username: str = "", name: str = "", email: str = "",
               groups: list[str] | None = None) -> None:
    sandbox.control("POST", "oidc/people", json={"subject": subject, "username": username, "name": name,
                                                 "email": email, "groups": groups or []})


def tamper_next_id_tokens(sandbox: SandboxProcess, times: int = 1) -> None:
    sandbox.control("POST", "oidc/faults", json={"tamperIdTokens": times})


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) as RFC 7636 section 4 makes them."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class CodeGrant:
    code: str
    state: str
    verifier: str


def pick(sandbox: SandboxProcess, authorize_url: str, *, subject: str, action: str = "sign-in") -> str:
    """Opens ``authorize_url`` (the provider's page a relying party redirected to), submits its form for
    ``subject`` (or cancels) and answers the URL the provider sends the browser back to."""
    page = sandbox.http.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    answer = sandbox.http.post(f"{issuer(sandbox)}/authorize", data={
        **{name: html.unescape(value) for name, value in form.items()}, "subject": subject, "action": action},
        headers={"Referer": authorize_url}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def authorize(sandbox: SandboxProcess, *, client_id: str, redirect_uri: str, subject: str,
              nonce: str = "n-0S6_WzA2Mj", scope: str = "openid profile email") -> CodeGrant:
    """Opens the authorize page for a PKCE request of our own, picks ``subject`` and answers the code."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
              "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
    location = pick(sandbox, f"{issuer(sandbox)}/authorize?{urlencode(params)}", subject=subject)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return CodeGrant(code=query["code"][0], state=state, verifier=verifier)
