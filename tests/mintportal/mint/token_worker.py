"""A portal process for the token-sharing tests: reads commands on stdin, answers one line per command.

Run with DJANGO_SETTINGS_MODULE=tests.settings and the MINT_* variables of the sandbox. Commands:
``call N`` makes N concurrent Mint calls from N threads and answers ``ok``; ``advance S`` moves this
process's token clock S seconds ahead (time is the one thing tests patch) and answers ``ok``.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import django


def main() -> None:
    django.setup()
    from mintportal.mint import get_client

    client = get_client()
    offset = 0.0
    client.tokens.clock = lambda: time.time() + offset
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "call":
            with ThreadPoolExecutor(max_workers=int(argument)) as pool:
                list(pool.map(lambda _: client.list_workflows(limit=1), range(int(argument))))
        elif command == "advance":
            offset += float(argument)
        else:
            print(f"unknown command {command!r}", flush=True)
            continue
        print("ok", flush=True)


if __name__ == "__main__":
    main()
