"""``python manage.py mint_check``: can the portal reach Mint with its credentials and roles?

Prints one line per check in plain words and exits non-zero when any fails, e.g.

    Mint API https://api.signicat.com/mint, client abc123
    token OK (valid for 600 s)
    Flow Viewer OK
    Flow Editor missing
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mintportal.mint import get_client


class Command(BaseCommand):
    help = (
        "Checks the Mint connection: fetches a token, makes one read (Flow Viewer) and one deliberately "
        "invalid write that Mint rejects without writing (Flow Editor). Exits non-zero on any problem."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        client = get_client()
        self.stdout.write(f"Mint API {client.config.base_url}, client {client.config.client_id}")
        check = client.check_access()
        problems: list[str] = []
        if check.token_ok:
            self.stdout.write(self.style.SUCCESS(f"token OK (valid for {check.token_expires_in:.0f} s)"))
        else:
            self.stdout.write(self.style.ERROR(f"token FAILED: {check.token_problem}"))
            self.stdout.write("Flow Viewer not checked (no token)")
            self.stdout.write("Flow Editor not checked (no token)")
            raise CommandError("token FAILED: check MINT_TOKEN_URL, MINT_CLIENT_ID and MINT_CLIENT_SECRET")
        for role, ok, problem in (
            ("Flow Viewer", check.viewer_ok, check.viewer_problem),
            ("Flow Editor", check.editor_ok, check.editor_problem),
        ):
            if ok:
                self.stdout.write(self.style.SUCCESS(f"{role} OK"))
            elif problem == "missing":
                self.stdout.write(self.style.ERROR(f"{role} missing"))
                problems.append(f"{role} missing")
            else:
                self.stdout.write(self.style.ERROR(f"{role} FAILED: {problem}"))
                problems.append(f"{role} FAILED")
        if problems:
            raise CommandError(", ".join(problems) + ": give the API client the role in the Signicat Dashboard")
