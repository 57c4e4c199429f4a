"""API clients, the OAuth 2.0 client-credentials token endpoint's logic, and bearer token checks.

Secrets and tokens are stored as SHA-256 hashes and compared in constant time; neither is ever logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from sandbox.core import clock, control
from sandbox.core.memo import Memo
from sandbox.core.models import AccessToken, ApiClient
from sandbox.core.problems import ApiError

FLOW_VIEWER = "Flow Viewer"
FLOW_EDITOR = "Flow Editor"
ROLES = (FLOW_VIEWER, FLOW_EDITOR)
SCOPE = "signicat-api"


def stored_hash(value: str) -> str:
    """What is stored of a secret, token or code: its SHA-256, never the value itself."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class _KnownToken:
    client_id: str
    # None when the token's client no longer exists.
    roles: tuple[str, ...] | None
    expires_at: datetime


# Every API request checks its bearer token: its token and client rows are remembered by token hash, and
# forgotten whenever a client or the tokens change.
_known_tokens: Memo[str, _KnownToken] = Memo(ttl=5.0)


def client_upsert(*, client_id: str, client_secret: str, roles: list[str]) -> None:
    """Adds or replaces an API client with ``roles``."""
    with transaction.atomic():
        ApiClient.objects.update_or_create(client_id=client_id,
                                           defaults={"secret_hash": stored_hash(client_secret), "roles": list(roles)})
        _known_tokens.forget()


def ensure_env_client() -> None:
    """Makes the client of SANDBOX_CLIENT_ID / SANDBOX_CLIENT_SECRET exist with both roles."""
    client_upsert(client_id=settings.SANDBOX_CLIENT_ID, client_secret=settings.SANDBOX_CLIENT_SECRET,
                  roles=list(ROLES))


class OAuthError(Exception):
    """An RFC 6749 error answer: ``{error, error_description}`` with ``status``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def client_credentials(request: HttpRequest) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            client_id, _, client_secret = decoded.partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "The Basic credentials are malformed.", 401) from None
        # RFC 6749 section 2.3.1: both parts are form-urlencoded before they are joined.
        return unquote(client_id), unquote(client_secret)
    return request.POST.get("client_id"), request.POST.get("client_secret")


def issue_token(request: HttpRequest) -> IssuedToken:
    """Checks a token request (client auth by form fields or HTTP Basic, grant and scope) and issues a token."""
    client_id, client_secret = client_credentials(request)
    if not client_id or client_secret is None:
        raise OAuthError("invalid_client", "Client authentication is required.", 401)
    client = ApiClient.objects.filter(client_id=client_id).first()
    if client is None or not hmac.compare_digest(client.secret_hash, stored_hash(client_secret)):
        raise OAuthError("invalid_client", "The client id or secret is wrong.", 401)
    grant_type = request.POST.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only the client_credentials grant is supported.")
    scopes = (request.POST.get("scope") or "").split()
    if SCOPE not in scopes:
        raise OAuthError("invalid_scope", f"The scope must include {SCOPE}.")
    ttl = control.token_ttl()
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(token_hash=stored_hash(token), client_id=client.client_id,
                               expires_at=clock.now() + timedelta(seconds=ttl))
    return IssuedToken(access_token=token, expires_in=ttl)


def revoke_all_tokens() -> None:
    # Forgotten while the write lock is held, so no request checked after the revocation commits finds a token.
    with transaction.atomic():
        AccessToken.objects.all().delete()
        _known_tokens.forget()


@dataclass(frozen=True)
class Caller:
    client_id: str
    roles: tuple[str, ...]


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="mint"'})


def authenticate(request: HttpRequest, role: str) -> Caller:
    """The API client behind the request's bearer token; 401 without a live token, 403 without ``role``."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer " or not header[7:].strip():
        raise _unauthorized("A bearer access token is required.")
    token_hash = stored_hash(header[7:].strip())
    token = _known_tokens.get(token_hash, lambda: _load_token(token_hash))
    if token is None:
        raise _unauthorized("The access token is invalid or revoked.")
    if token.expires_at <= clock.now():
        raise _unauthorized("The access token has expired.")
    if token.roles is None:
        raise _unauthorized("The access token's client no longer exists.")
    if role not in token.roles:
        raise ApiError(403, "forbidden", f"The API client lacks the {role!r} role for this operation.")
    return Caller(client_id=token.client_id, roles=token.roles)


def _load_token(token_hash: str) -> _KnownToken | None:
    token = AccessToken.objects.filter(token_hash=token_hash).first()
    if token is None:
        return None
    client = ApiClient.objects.filter(client_id=token.client_id).first()
    return _KnownToken(client_id=token.client_id, roles=tuple(client.roles) if client is not None else None,
                       expires_at=token.expires_at)
