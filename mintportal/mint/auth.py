"""Access tokens for Mint: client credentials through authlib, one token shared by every process.

Signicat asks API clients to cache the token and renew it near expiry rather than fetch one per call
(https://developer.signicat.com/docs/accessing-api-products/). The token lives in Django's cache
(Redis in production, a file cache in the embedded default) as JSON, under a key derived from the token
URL and client id, so every web and worker process uses the same one. Renewal takes a short lock beside
the cache (locks.py): one caller fetches while the others keep using the still valid token, or, when
there is none, poll the cache until the new one appears.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core.cache import caches
from pydantic import ValidationError

from mintportal.mint import errors
from mintportal.mint.config import MintConfig
from mintportal.mint.locks import RenewalLock, renewal_lock
from mintportal.mint.models import TokenResponse
from mintportal.mint.transport import USER_AGENT, connection_error, error_from_response

logger = logging.getLogger("mintportal.mint")

TOKEN_OPERATION = "token"
# Renew when less than this share of the lifetime, or RENEW_MIN_SECONDS, is left ...
RENEW_SHARE = 0.1
RENEW_MIN_SECONDS = 30.0
# ... but never before half of it has passed, so that very short test lifetimes still reuse tokens.
RENEW_MAX_SHARE = 0.5
# Stop using a token this close to its expiry (clock skew, time in flight), at most 10% of its lifetime.
EXPIRY_SKEW_SECONDS = 5.0


@dataclass(frozen=True)
class CachedToken:
    """An access token with the wall-clock times (epoch seconds) to renew and to stop using it."""

    access_token: str = field(repr=False)
    renew_at: float
    expires_at: float

    @classmethod
    def issued(cls, response: TokenResponse, *, now: float) -> CachedToken:
        lifetime = float(response.expires_in)
        renew_before = min(max(RENEW_MIN_SECONDS, lifetime * RENEW_SHARE), lifetime * RENEW_MAX_SHARE)
        skew = min(EXPIRY_SKEW_SECONDS, lifetime * 0.1)
        return cls(access_token=response.access_token, renew_at=now + lifetime - renew_before,
                   expires_at=now + lifetime - skew)

    def is_fresh(self, now: float) -> bool:
        return now < self.renew_at

    def is_usable(self, now: float) -> bool:
        return now < self.expires_at

    def to_json(self) -> str:
        return json.dumps({"access_token": self.access_token, "renew_at": self.renew_at, "expires_at": self.expires_at})

    @classmethod
    def from_json(cls, raw: Any) -> CachedToken | None:
        if not isinstance(raw, str):
            return None
        try:
            data = json.loads(raw)
            return cls(access_token=str(data["access_token"]), renew_at=float(data["renew_at"]),
                       expires_at=float(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None


class TokenProvider:
    """Hands out a valid access token; thread-safe, and shared across processes through the cache.

    ``get()`` returns a token, fetching one when needed; ``invalidate(token)`` drops a token that Mint
    rejected (a 401) so the next ``get()`` fetches a new one. Errors from the token endpoint raise
    ``MintAuthenticationError`` (bad credentials), ``MintConnectionError`` or ``MintServerError``/
    ``MintRateLimitedError``; none of their messages contains the secret.
    """

    def __init__(self, config: MintConfig, *, cache_alias: str = "default",
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.cache_alias = cache_alias
        self.clock = clock
        # The secret is part of the key so that new credentials never pick up a token fetched with old ones.
        identity = f"{config.token_url}\n{config.client_id}\n{config.client_secret}\n{config.scope}"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        self.cache_key = f"mint:token:{digest}"
        self.lock_key = f"mint:token-lock:{digest}"
        # The lock outlives a slow token request, and then expires on its own if its holder died.
        self.lock_ttl = int(config.connect_timeout + config.read_timeout) + 5
        self._token: CachedToken | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenProvider(client_id={self.config.client_id!r}, token_url={self.config.token_url!r})"

    # --- the shared cache, tolerant of a cache outage (then each process keeps its own token) ---

    @property
    def _cache(self):
        return caches[self.cache_alias]

    def _cache_call(self, what: str, call: Callable[[], Any], default: Any = None) -> Any:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - any cache backend failure degrades to a per-process token
            logger.warning("mint token cache %s failed (%s); using a per-process token", what, type(exc).__name__)
            return default

    def _lock_backend(self) -> RenewalLock:
        return renewal_lock(self._cache, self.lock_key, self.lock_ttl)

    def _read_shared(self) -> CachedToken | None:
        return CachedToken.from_json(self._cache_call("read", lambda: self._cache.get(self.cache_key)))

    def _write_shared(self, token: CachedToken) -> None:
        timeout = max(1, int(token.expires_at - self.clock()) + 1)
        self._cache_call("write", lambda: self._cache.set(self.cache_key, token.to_json(), timeout=timeout))

    # --- public -----------------------------------------------------------------------------

    def get(self, *, timeout: tuple[float, float] | None = None, max_wait: float | None = None) -> str:
        """A token that is valid now; fetches or waits for a new one when the current one is due.

        ``timeout`` (connect, read) bounds a fetch and ``max_wait`` the wait for another process's renewal,
        so that a web request spends no more than its budget (budget.py); both default to the configured ones.
        """
        token = self._token
        if token is not None and token.is_fresh(self.clock()):
            return token.access_token
        with self._lock:
            return self._get_locked(timeout or self.config.timeout, max_wait).access_token

    def renew(self) -> CachedToken:
        """Fetches a new token now, whatever is cached, and shares it (used by ``mint_check``)."""
        with self._lock:
            token = self._fetch()
            self._store(token)
            return token

    def invalidate(self, access_token: str) -> None:
        """Drops ``access_token`` here and in the cache, unless another caller has already replaced it."""
        with self._lock:
            if self._token is not None and self._token.access_token == access_token:
                self._token = None
            shared = self._read_shared()
            if shared is not None and shared.access_token == access_token:
                self._cache_call("delete", lambda: self._cache.delete(self.cache_key))

    def clear(self) -> None:
        """Forgets every token, here and in the cache."""
        with self._lock:
            self._token = None
            self._cache_call("delete", lambda: self._cache.delete(self.cache_key))

    # --- internals ------------------------------------------------------------------------------

    def _get_locked(self, timeout: tuple[float, float], max_wait: float | None) -> CachedToken:
        now = self.clock()
        if self._token is not None and self._token.is_fresh(now):
            return self._token
        shared = self._read_shared()
        if shared is not None and shared.is_fresh(now):
            self._token = shared
            return shared
        current = next((t for t in (shared, self._token) if t is not None and t.is_usable(now)), None)
        owner = uuid.uuid4().hex
        if self._cache_call("lock", lambda: self._lock_backend().acquire(owner), True):
            try:
                # Another process may have renewed between our read and our lock.
                shared = self._read_shared()
                if shared is not None and shared.is_fresh(self.clock()):
                    self._token = shared
                    return shared
                token = self._fetch(timeout)
                self._store(token)
                return token
            finally:
                self._release(owner)
        if current is not None:
            # Someone else is renewing; the token we have stays valid for a while yet.
            self._token = current
            return current
        return self._wait_for_renewal(timeout, max_wait)

    def _wait_for_renewal(self, timeout: tuple[float, float], max_wait: float | None) -> CachedToken:
        """Polls the cache until the lock holder publishes a token; fetches itself if that takes too long."""
        deadline = time.monotonic() + (self.lock_ttl if max_wait is None else min(self.lock_ttl, max_wait))
        pause = 0.02
        while time.monotonic() < deadline:
            time.sleep(pause + random.uniform(0, pause))
            pause = min(pause * 2, 0.25)
            # Look at the lock before the token: a holder publishes the token before it unlocks.
            locked = self._cache_call("lock check", lambda: self._lock_backend().is_held(), False)
            shared = self._read_shared()
            if shared is not None and shared.is_usable(self.clock()):
                self._token = shared
                return shared
            if not locked:
                # The holder gave up (its fetch failed): fetch ourselves rather than wait out the TTL.
                break
        token = self._fetch(timeout)
        self._store(token)
        return token

    def _release(self, owner: str) -> None:
        self._cache_call("unlock", lambda: self._lock_backend().release(owner))

    def _store(self, token: CachedToken) -> None:
        self._token = token
        self._write_shared(token)

    def _fetch(self, timeout: tuple[float, float] | None = None) -> CachedToken:
        """One request to the token endpoint (client credentials, secret sent as form fields)."""
        config = self.config
        session = OAuth2Session(
            client_id=config.client_id,
            client_secret=config.client_secret,
            scope=config.scope,
            token_endpoint_auth_method="client_secret_post",
        )
        session.headers["User-Agent"] = USER_AGENT
        session.register_compliance_hook("access_token_response", _raise_for_token_error)
        started = self.clock()
        try:
            with session:
                raw = session.fetch_token(config.token_url, grant_type="client_credentials",
                                          timeout=timeout or config.timeout)
        except requests.RequestException as exc:
            error = connection_error(exc, operation=TOKEN_OPERATION, url=config.token_url)
            logger.warning("mint call failed: POST %s status=- trace_id=- (%s)", TOKEN_OPERATION, type(error).__name__)
            raise error from None
        except errors.MintError as error:
            logger.warning("mint call failed: POST %s status=%s code=%s trace_id=%s", TOKEN_OPERATION,
                           error.status, error.code, error.trace_id or "-")
            raise
        try:
            response = TokenResponse.model_validate(dict(raw))
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            raise errors.MintResponseError(
                f"{TOKEN_OPERATION}: the token endpoint's answer is missing or has wrong fields: {fields}",
                operation=TOKEN_OPERATION,
            ) from None
        if response.token_type.lower() != "bearer":
            raise errors.MintResponseError(
                f"{TOKEN_OPERATION}: unsupported token type {response.token_type!r}", operation=TOKEN_OPERATION
            )
        return CachedToken.issued(response, now=started)


def _raise_for_token_error(response: requests.Response) -> requests.Response:
    """authlib hook: turns any non-200 token answer into the Mint error tree before authlib parses it."""
    if response.status_code == 200:
        return response
    error = error_from_response(response, operation=TOKEN_OPERATION)
    if response.status_code in (400, 401):
        # OAuth answers invalid_client / unauthorized_client with 400 or 401: the credentials are wrong.
        error = errors.MintAuthenticationError(
            f"{TOKEN_OPERATION}: Mint rejected the API client {error.code or ''}".rstrip()
            + (f": {error.detail}" if error.detail else ""),
            status=error.status, code=error.code, trace_id=error.trace_id, operation=TOKEN_OPERATION,
            title=error.title, detail=error.detail,
        )
    raise error
