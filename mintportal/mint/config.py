"""The Mint client's configuration, read from the MINT_* settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class MintConfig:
    """Where Mint is, who the portal is to Mint, and how long and how often to try.

    The secret is left out of ``repr()`` so that the config can be logged or shown in a traceback.
    """

    base_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    connect_timeout: float = 3.05
    read_timeout: float = 15.0
    max_retries: int = 3
    max_retry_wait: float = 30.0
    scope: str = "signicat-api"
    # All Mint reads of one web request together may take this long (budget.py); workers have no such cap.
    web_timeout: float = 3.0
    # How many threads of one process may wait on Mint for pages at once (0: no limit); see client.py.
    web_concurrency: int = 0
    # The circuit breaker of each operation group (breaker.py): this many failures within the window open it;
    # it stays open for the cool-down, then lets one probe through.
    breaker_failures: int = 5
    breaker_window: float = 30.0
    breaker_cooldown: float = 15.0

    @classmethod
    def from_settings(cls) -> MintConfig:
        base_url: str = settings.MINT_BASE_URL
        return cls(
            base_url=base_url.rstrip("/"),
            token_url=settings.MINT_TOKEN_URL,
            client_id=settings.MINT_CLIENT_ID,
            client_secret=settings.MINT_CLIENT_SECRET,
            connect_timeout=float(settings.MINT_CONNECT_TIMEOUT),
            read_timeout=float(settings.MINT_READ_TIMEOUT),
            max_retries=int(settings.MINT_MAX_RETRIES),
            max_retry_wait=float(settings.MINT_MAX_RETRY_WAIT),
            web_timeout=float(settings.MINT_WEB_TIMEOUT),
            web_concurrency=int(settings.MINT_WEB_CONCURRENCY),
            breaker_failures=int(settings.MINT_BREAKER_FAILURES),
            breaker_window=float(settings.MINT_BREAKER_WINDOW),
            breaker_cooldown=float(settings.MINT_BREAKER_COOLDOWN),
        )

    @property
    def timeout(self) -> tuple[float, float]:
        """The (connect, read) pair that every request carries."""
        return (self.connect_timeout, self.read_timeout)
