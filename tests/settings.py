"""Settings for the test suite: the portal's own, with the variables a developer's shell may lack.

The Mint values are placeholders; tests that talk to Mint point the client at the sandbox process
that the ``sandbox`` fixture starts (see tests/conftest.py).
"""

import os
import tempfile

os.environ.setdefault("MINT_CLIENT_ID", "portal-tests")
os.environ.setdefault("MINT_CLIENT_SECRET", "portal-tests-secret")
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("PORTAL_RUN_DIR", tempfile.mkdtemp(prefix="mintportal-tests-"))

from mintportal.settings import *  # noqa: E402,F403

# Fast hashing keeps persona fixtures cheap; nothing here protects a real password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
