"""The portal's only conversation with the OpenID Connect provider, through authlib's Django client.

authlib does the protocol: discovery from ``<issuer>/.well-known/openid-configuration``, the authorization
redirect with ``state``, ``nonce`` and a PKCE S256 challenge (kept in the session), the code exchange with the
client secret, and the ID token's checks (signature against the provider's JWKS, ``iss``, ``aud``, ``exp``,
``nonce``, ``at_hash``). This module adds the checks authlib leaves to its caller and turns every failure into
an :class:`SsoFailure` with an HTTP status and one sentence a person can read. Nothing here logs a code or token.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

# Discovery and the key set are fetched again after this long, so the provider's changes are picked up.
METADATA_TTL_SECONDS = 3600


class SsoFailure(Exception):
    """A sign-in that cannot go on: ``status`` (400, 403 or 502), a short ``reason`` for the audit trail and
    the log, and ``message``, the sentence the person sees. Neither ever carries a code or a token."""

    def __init__(self, *, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


UNREACHABLE = "The identity provider could not be reached or gave an answer the portal cannot use. Try again later."


@dataclass
class _CachedApp:
    key: tuple[str, ...]
    loaded_at: float
    app: Any


_lock = threading.Lock()
_cached: _CachedApp | None = None


def _app() -> Any:
    """authlib's client for the configured provider, with its discovery document loaded and checked."""
    global _cached
    key = (settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET, settings.OIDC_SCOPES,
           str(settings.OIDC_TIMEOUT))
    with _lock:
        if _cached is not None and _cached.key == key and time.monotonic() - _cached.loaded_at < METADATA_TTL_SECONDS:
            return _cached.app
    registry = OAuth()
    registry.register(
        "oidc",
        client_id=settings.OIDC_CLIENT_ID,
        client_secret=settings.OIDC_CLIENT_SECRET,
        server_metadata_url=f"{settings.OIDC_ISSUER}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.OIDC_SCOPES, "code_challenge_method": "S256",
                       "token_endpoint_auth_method": "client_secret_basic",
                       "default_timeout": settings.OIDC_TIMEOUT},
    )
    app = registry.create_client("oidc")
    try:
        metadata = app.load_server_metadata()
    except (OSError, ValueError):
        # requests' errors are OSErrors; a body that is not JSON is a ValueError.
        raise SsoFailure(status=502, reason="provider_unreachable", message=UNREACHABLE) from None
    # OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer it was fetched for.
    if str(metadata.get("issuer", "")).rstrip("/") != settings.OIDC_ISSUER or not metadata.get("jwks_uri") \
            or not metadata.get("authorization_endpoint") or not metadata.get("token_endpoint"):
        raise SsoFailure(status=502, reason="provider_metadata_invalid",
                         message="The identity provider's configuration does not match the portal's settings. "
                                 "An administrator must check OIDC_ISSUER.")
    with _lock:
        _cached = _CachedApp(key=key, loaded_at=time.monotonic(), app=app)
    return app


def authorization_redirect(request: HttpRequest, *, redirect_uri: str) -> HttpResponse:
    """The redirect to the provider's authorization endpoint; ``state``, ``nonce`` and the PKCE verifier are
    kept in the session for :func:`authorization_complete`."""
    app = _app()
    return app.authorize_redirect(request, redirect_uri=redirect_uri)


def authorization_complete(request: HttpRequest) -> dict[str, Any]:
    """The verified ID token claims of the provider's answer at the callback.

    Checks the ``state`` against this browser's session (once: it is forgotten as it is read), exchanges the
    code with the PKCE verifier, and verifies the ID token's signature, ``iss`` (the configured issuer), ``aud``
    (our client id), ``exp`` and ``nonce``. Raises :class:`SsoFailure` for anything else.
    """
    app = _app()
    issuer = app.server_metadata["issuer"]
    try:
        token = app.authorize_access_token(request, claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": settings.OIDC_CLIENT_ID},
            "sub": {"essential": True},
        })
    except MismatchingStateError:
        raise SsoFailure(status=400, reason="state_mismatch",
                         message="This sign-in was not started in this browser, or was already completed. "
                                 "Start again from the sign-in page.") from None
    except OAuthError as error:
        if error.error == "access_denied":
            raise SsoFailure(status=403, reason="cancelled",
                             message="The sign-in was cancelled at the identity provider.") from None
        if error.error == "invalid_grant":
            raise SsoFailure(status=403, reason="code_refused",
                             message="The identity provider refused the sign-in code: it was already used or "
                                     "has expired. Start again from the sign-in page.") from None
        # The error code may come from the callback's query string, which anyone can write: letters only.
        code = re.sub(r"[^a-z_]", "", str(error.error).lower())[:40]
        raise SsoFailure(status=403, reason=f"provider_error:{code}",
                         message="The identity provider refused the sign-in.") from None
    except BadSignatureError:
        raise SsoFailure(status=403, reason="bad_signature",
                         message="The identity provider's answer could not be verified: its signature is wrong.") \
            from None
    except ExpiredTokenError:
        raise SsoFailure(status=403, reason="id_token_expired",
                         message="The identity provider's answer has expired. Start again.") from None
    except ClaimError as error:
        raise SsoFailure(status=403, reason=f"id_token_claim:{error.claim}",
                         message="The identity provider's answer is not meant for this portal.") from None
    except JoseError:
        raise SsoFailure(status=403, reason="id_token_invalid",
                         message="The identity provider's answer could not be verified.") from None
    except (OSError, ValueError, RuntimeError):
        # requests' errors are OSErrors; authlib raises RuntimeError and ValueError for unusable answers.
        raise SsoFailure(status=502, reason="provider_unreachable", message=UNREACHABLE) from None
    claims = token.get("userinfo")
    if not claims:
        raise SsoFailure(status=403, reason="no_id_token",
                         message="The identity provider did not send an ID token.")
    return dict(claims)
