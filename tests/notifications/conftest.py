"""A real SMTP server process for the notification tests, and the portal's mail settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp_server import SmtpServer


@pytest.fixture(scope="session")
def smtp_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    server = SmtpServer(folder=tmp_path_factory.mktemp("smtp") / "messages")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp(smtp_process: SmtpServer, settings) -> SmtpServer:
    """The session's SMTP server, running and empty, with the portal mailing through it (plain SMTP on loopback)."""
    if smtp_process.process is None or smtp_process.process.poll() is not None:
        smtp_process.start()
    smtp_process.clear()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": "127.0.0.1", "port": smtp_process.port, "use_tls": False, "use_ssl": False, "timeout": 5,
    }}}
    settings.PORTAL_BASE_URL = "https://portal.example.test"
    return smtp_process

