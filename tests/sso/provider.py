"""Drives the sandbox's OpenID Connect provider from tests: its control API (clients, people, faults) and a
plain HTTP walk through the authorize form, as a browser would post it."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

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


def authorize(sandbox: SandboxProcess, *, client_id: str, redirect_uri: str, subject: str,
              nonce: str = "n-0S6_WzA2Mj", scope: str = "openid profile email") -> CodeGrant:
    """Opens the authorize page, picks ``subject`` in its form and answers the code sent back."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
              "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
    page = sandbox.http.get(f"{issuer(sandbox)}/authorize", params=params, timeout=10)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = sandbox.http.post(f"{issuer(sandbox)}/authorize", data={
        **params, "csrfmiddlewaretoken": csrf.group(1), "subject": subject, "action": "sign-in"},
        headers={"Referer": f"{issuer(sandbox)}/authorize"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [state]
    return CodeGrant(code=query["code"][0], state=state, verifier=verifier)
