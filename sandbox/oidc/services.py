"""The provider's logic: its signing key and JWKS, relying parties, test people, codes and the token exchange.

Codes and client secrets are stored as SHA-256 hashes and compared in constant time; neither, nor any issued
token, is ever logged. Time comes from the sandbox clock, so tests move it instead of waiting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from joserfc import jwt
from joserfc.jwk import RSAKey

from sandbox.core import clock
from sandbox.core.auth import OAuthError, stored_hash
from sandbox.oidc.models import AuthorizationCode, Client, Person, SigningKey

ALGORITHM = "RS256"
# Long enough for a person's browser to carry the code back; RFC 6749 section 4.1.2 advises at most 10 minutes.
CODE_TTL_SECONDS = 60
ID_TOKEN_TTL_SECONDS = 300
ACCESS_TOKEN_TTL_SECONDS = 300
SCOPES = ("openid", "profile", "email", "groups")
# RFC 7636 section 4.1: 43 to 128 characters of the unreserved set.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issuer() -> str:
    return f"{settings.SANDBOX_PUBLIC_URL}/oidc"


def discovery_document() -> dict[str, Any]:
    """The OpenID Provider Metadata (OpenID Connect Discovery 1.0, section 3)."""
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name",
                             "preferred_username", "email", "email_verified", "groups"],
    }


# --- the signing key --------------------------------------------------------------------------------------

_key_lock = threading.Lock()
_key: RSAKey | None = None


def signing_key() -> RSAKey:
    """The provider's RS256 key: the stored one, or a new one made and stored on first use."""
    global _key
    with _key_lock:
        if _key is None:
            # The write transaction serialises two processes that start on one fresh database.
            with transaction.atomic():
                row = SigningKey.objects.order_by("created_at").first()
                if row is None:
                    kid = uuid.uuid4().hex
                    generated = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
                    row = SigningKey.objects.create(kid=kid, private_jwk=generated.as_dict(private=True),
                                                    created_at=clock.now())
            _key = RSAKey.import_key(row.private_jwk)
        return _key


def jwks() -> dict[str, Any]:
    """The public half of the signing key as a JWK Set (RFC 7517 section 5)."""
    return {"keys": [signing_key().as_dict(private=False)]}


# --- relying parties and people ---------------------------------------------------------------------------

def client_upsert(*, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
    """Adds or replaces a relying party with the redirect URIs it may use."""
    Client.objects.update_or_create(client_id=client_id, defaults={
        "secret_hash": stored_hash(client_secret), "redirect_uris": list(redirect_uris)})


@dataclass(frozen=True)
class _ClientRecord:
    client_id: str
    secret_hash: str
    redirect_uris: tuple[str, ...]


def _client(client_id: str) -> _ClientRecord | None:
    # Settings refuse to start with a configured client id and no secret; the secret test only narrows the type.
    secret = settings.SANDBOX_OIDC_CLIENT_SECRET
    if settings.SANDBOX_OIDC_CLIENT_ID and secret and client_id == settings.SANDBOX_OIDC_CLIENT_ID:
        return _ClientRecord(client_id, stored_hash(secret),
                             tuple(settings.SANDBOX_OIDC_REDIRECT_URIS))
    row = Client.objects.filter(client_id=client_id).first()
    if row is None:
        return None
    return _ClientRecord(row.client_id, row.secret_hash, tuple(row.redirect_uris))


def person_upsert(*, subject: str, username: str, name: str, email: str, groups: list[str]) -> Person:
    """Adds or replaces a test person offered on the authorize page."""
    person, _ = Person.objects.update_or_create(subject=subject, defaults={
        "username": username, "name": name, "email": email, "groups": list(groups)})
    return person


def people() -> list[Person]:
    return list(Person.objects.all())


# --- injected faults --------------------------------------------------------------------------------------

_fault_lock = threading.Lock()
_tampered_tokens_left = 0


def fault_tamper_id_tokens(times: int) -> None:
    """Makes the next ``times`` token answers carry an ID token whose claims were changed after signing."""
    global _tampered_tokens_left
    with _fault_lock:
        _tampered_tokens_left = times


def _take_tamper_fault() -> bool:
    global _tampered_tokens_left
    with _fault_lock:
        if _tampered_tokens_left <= 0:
            return False
        _tampered_tokens_left -= 1
        return True


def reset() -> None:
    """Clears injected faults (``POST /_sandbox/reset``); keeps keys, clients and people."""
    fault_tamper_id_tokens(0)


# --- authorize --------------------------------------------------------------------------------------------

class AuthorizeError(Exception):
    """A bad authorization request. ``redirect`` False means the client or redirect URI could not be trusted,
    so the person sees the error instead of being sent back (RFC 6749 section 4.1.2.1)."""

    def __init__(self, error: str, description: str, *, redirect: bool) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect = redirect


@dataclass(frozen=True)
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str
    code_challenge: str

    def as_params(self) -> dict[str, str]:
        """The request's parameters, for the picker form to send back."""
        return {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                "scope": self.scope, "state": self.state, "nonce": self.nonce,
                "code_challenge": self.code_challenge, "code_challenge_method": "S256"}


def authorize_request_check(params: dict[str, str]) -> AuthorizeRequest:
    """Validates an authorization request: a known client and one of its redirect URIs first, then the
    response type, the ``openid`` scope and a PKCE S256 challenge (plain or none is refused)."""
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    client = _client(client_id) if client_id else None
    if client is None:
        raise AuthorizeError("invalid_request", "The client is not registered with this provider.", redirect=False)
    if redirect_uri not in client.redirect_uris:
        raise AuthorizeError("invalid_request", "The redirect URI is not registered for this client.",
                             redirect=False)
    if params.get("response_type") != "code":
        raise AuthorizeError("unsupported_response_type", "Only the authorization code flow is supported.",
                             redirect=True)
    scope = params.get("scope", "")
    if "openid" not in scope.split():
        raise AuthorizeError("invalid_scope", "The scope must include openid.", redirect=True)
    challenge = params.get("code_challenge", "")
    if params.get("code_challenge_method") != "S256" or not _CHALLENGE.fullmatch(challenge):
        raise AuthorizeError("invalid_request", "A PKCE code_challenge with code_challenge_method=S256 is required.",
                             redirect=True)
    return AuthorizeRequest(client_id=client_id, redirect_uri=redirect_uri, scope=scope,
                            state=params.get("state", ""), nonce=params.get("nonce", ""), code_challenge=challenge)


def redirect_with(redirect_uri: str, **params: str) -> str:
    """``redirect_uri`` with ``params`` added to whatever query it already has."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v]
    return urlunsplit(parts._replace(query=urlencode(query)))


def code_issue(*, request: AuthorizeRequest, subject: str) -> str:
    """Issues a single-use code for ``subject`` (who must exist) and answers it; only its hash is stored."""
    if not Person.objects.filter(subject=subject).exists():
        raise AuthorizeError("invalid_request", "Choose one of the listed people.", redirect=False)
    code = secrets.token_urlsafe(32)
    AuthorizationCode.objects.create(
        code_hash=stored_hash(code), client_id=request.client_id, redirect_uri=request.redirect_uri, subject=subject,
        scope=request.scope, nonce=request.nonce, code_challenge=request.code_challenge,
        expires_at=clock.now() + timedelta(seconds=CODE_TTL_SECONDS),
    )
    return code


# --- token ------------------------------------------------------------------------------------------------

def _authenticate_client(client_id: str | None, client_secret: str | None) -> _ClientRecord:
    if not client_id or client_secret is None:
        raise OAuthError("invalid_client", "Client authentication is required.", 401)
    client = _client(client_id)
    if client is None or not hmac.compare_digest(client.secret_hash, stored_hash(client_secret)):
        raise OAuthError("invalid_client", "The client id or secret is wrong.", 401)
    return client


def _id_token(*, code: AuthorizationCode, person: Person, access_token: str) -> str:
    now = clock.now()
    scopes = set(code.scope.split())
    claims: dict[str, Any] = {
        "iss": issuer(), "sub": person.subject, "aud": code.client_id,
        "iat": int(now.timestamp()), "exp": int(now.timestamp()) + ID_TOKEN_TTL_SECONDS,
        "auth_time": int(now.timestamp()),
        # OpenID Connect Core section 3.1.3.6: the left half of the access token's SHA-256.
        "at_hash": _b64url(hashlib.sha256(access_token.encode()).digest()[:16]),
        "groups": list(person.groups),
    }
    if code.nonce:
        claims["nonce"] = code.nonce
    if "profile" in scopes:
        claims.update({"name": person.name, "preferred_username": person.username})
    if "email" in scopes and person.email:
        claims.update({"email": person.email, "email_verified": True})
    key = signing_key()
    token = jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}, claims, key)
    if _take_tamper_fault():
        token = _tampered(token)
    return token


def _tampered(token: str) -> str:
    """The token with an extra group slipped into its claims and the original signature kept: what an
    attacker between the provider and the portal would try."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["groups"] = [*claims.get("groups", []), "tampered-admins"]
    forged = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{forged}.{signature}"


def token_exchange(*, client_id: str | None, client_secret: str | None, params: dict[str, str]) -> dict[str, Any]:
    """Exchanges an authorization code (grant ``authorization_code``) for an access token and an ID token.

    The client authenticates with its secret; the code must be its own, unexpired, unused and sent with the
    same redirect URI; the PKCE verifier must hash to the challenge. A code is spent by its first exchange,
    successful or not, so a replayed or guessed-at code never yields a token.
    """
    client = _authenticate_client(client_id, client_secret)
    if params.get("grant_type") != "authorization_code":
        raise OAuthError("unsupported_grant_type", "Only the authorization_code grant is supported.")
    raw_code = params.get("code") or ""
    if not raw_code:
        raise OAuthError("invalid_request", "code is required.")
    with transaction.atomic():
        code = AuthorizationCode.objects.filter(code_hash=stored_hash(raw_code)).first()
        if code is None or code.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The authorization code is unknown.")
        if code.used_at is not None:
            raise OAuthError("invalid_grant", "The authorization code has already been used.")
        code.used_at = clock.now()
        code.save(update_fields=["used_at"])
    if code.expires_at <= clock.now():
        raise OAuthError("invalid_grant", "The authorization code has expired.")
    if params.get("redirect_uri") != code.redirect_uri:
        raise OAuthError("invalid_grant", "The redirect_uri differs from the authorization request's.")
    verifier = params.get("code_verifier") or ""
    if not _VERIFIER.fullmatch(verifier):
        raise OAuthError("invalid_grant", "A code_verifier of 43 to 128 unreserved characters is required.")
    if not hmac.compare_digest(_b64url(hashlib.sha256(verifier.encode()).digest()), code.code_challenge):
        raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.")
    person = Person.objects.filter(subject=code.subject).first()
    if person is None:
        raise OAuthError("invalid_grant", "The person behind this code no longer exists.")
    access_token = secrets.token_urlsafe(32)
    return {
        "access_token": access_token, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL_SECONDS,
        "scope": code.scope, "id_token": _id_token(code=code, person=person, access_token=access_token),
    }
