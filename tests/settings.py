"""Settings for the test suite: the portal's own, with the variables a developer's shell may lack.

The Mint values are placeholders; tests that talk to Mint point the client at the sandbox process
that the ``sandbox`` fixture starts (see tests/conftest.py).
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("MINT_CLIENT_ID", "portal-tests")
os.environ.setdefault("MINT_CLIENT_SECRET", "portal-tests-secret")
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("PORTAL_RUN_DIR", tempfile.mkdtemp(prefix="mintportal-tests-"))
# The test client and live_server speak plain http: no Secure or __Host- cookies, no HTTPS redirect, no HSTS
# (all follow this variable). tests/mintportal/test_deploy_check.py checks the HTTPS settings in a process of their own.
os.environ["DJANGO_SECURE_COOKIES"] = "false"

from mintportal.settings import *  # noqa: F403 - the test settings are the portal's, with the overrides below

# Fast hashing keeps persona fixtures cheap; nothing here protects a real password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# An in-memory SQLite test database is shared between threads through SQLite's shared cache, whose table
# locks fail at once ("database table is locked") instead of waiting; a file gets the busy timeout and WAL
# that production's embedded default has, so tests with concurrent threads behave as the portal does.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(RUN_DIR / "tests.sqlite3")}  # noqa: F405

# WhiteNoise warns on every request when STATIC_ROOT is missing; the suite never runs collectstatic.
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # noqa: F405
