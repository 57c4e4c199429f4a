"""``python -m sandbox serve``: a threaded WSGI server plus the scheduler thread, stopped by SIGTERM/SIGINT.

The standard library's wsgiref with one thread per connection keeps this dependency-free and lets a slow
request (an injected latency fault) wait without blocking any other.
"""

from __future__ import annotations

import logging
import signal
import socketserver
import threading
from types import FrameType
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.management import call_command
from django.db import connection

logger = logging.getLogger("sandbox.server")


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """A thread per connection; threads die with the process."""

    daemon_threads = True
    allow_reuse_address = True
    # Enough pending connections for bursts of parallel clients (benchmarks, concurrency tests).
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    """The request line is logged by the app's own middleware (without query strings or headers)."""

    def log_message(self, format: str, *args: object) -> None:
        return


def prepare_database() -> None:
    """Migrates the database, switches it to WAL, and makes sure the configured API client exists."""
    from sandbox.core.auth import ensure_env_client

    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        # Refreshes the planner's statistics where they are stale, so listings pick the right index.
        cursor.execute("PRAGMA optimize")
    ensure_env_client()
    connection.close()


def serve(host: str, port: int) -> None:
    """Serves the sandbox on ``host:port`` until SIGTERM or SIGINT."""
    from sandbox.core.scheduler import Scheduler
    from sandbox.wsgi import application

    prepare_database()
    server = make_server(host, port, application, server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    scheduler = Scheduler()

    def shutdown(signum: int, frame: FrameType | None) -> None:
        logger.info("stopping on signal %s", signum)
        # shutdown() waits for serve_forever to return, so it must run outside the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    scheduler.start()
    logger.info("Mint sandbox serving on http://%s:%s", host, port)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        scheduler.stop()
        server.server_close()
        logger.info("Mint sandbox stopped")
