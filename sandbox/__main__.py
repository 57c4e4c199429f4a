"""The sandbox's command: ``python -m sandbox {serve,migrate,demo,seed}``.

It selects the sandbox's own settings (``sandbox.settings``), never the portal's.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "sandbox.settings"
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="The Mint-compatible sandbox.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, then serve the API on HOST:PORT")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    commands.add_parser("migrate", help="create or upgrade the sandbox database")
    commands.add_parser("demo", help="load the demo workflows and journeys (idempotent)", add_help=False)
    commands.add_parser("seed", help="bulk-load journeys for scale tests", add_help=False)
    args, rest = parser.parse_known_args(argv)

    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        # A bad setting stops start-up with one line naming the variable, not a traceback.
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from sandbox.server import serve as run_server

        run_server(args.host, args.port)
        return 0
    if args.command == "migrate":
        from sandbox.server import prepare_database

        prepare_database()
        return 0
    if args.command == "demo":
        from sandbox.demo import main as demo_main

        return demo_main(rest) or 0
    from sandbox.seed import main as seed_main

    return seed_main(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
