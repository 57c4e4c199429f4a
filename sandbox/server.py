"""``python -m sandbox serve``: a threaded WSGI server plus the scheduler thread, stopped by SIGTERM/SIGINT.

Django's own threaded server (wsgiref underneath, as ``runserver`` uses it) keeps this dependency-free and lets a
slow request (an injected latency fault) wait without blocking any other. It speaks HTTP/1.1 with keep-alive, so a
client's connection, its thread and that thread's SQLite connection (``CONN_MAX_AGE``) last for many requests
instead of one TCP connect, one thread and one database open per request.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from wsgiref.simple_server import make_server

from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection

logger = logging.getLogger("sandbox.server")


# Seconds a kept-alive connection may sit idle before the sandbox closes it, so that clients which never close
# their sessions do not hold a thread and a database connection each for ever.
KEEP_ALIVE_IDLE_SECONDS = 120


class ThreadingWSGIServer(ThreadedWSGIServer):
    """A thread per connection, closing that thread's database connection when the connection ends; threads
    die with the process."""

    # Enough pending connections for bursts of parallel clients (benchmarks, concurrency tests).
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    """The request line is logged by the app's own middleware (without query strings or headers)."""

    timeout = KEEP_ALIVE_IDLE_SECONDS
    # wsgiref sends the headers and the body in separate writes; on a kept-alive connection Nagle's algorithm
    # would hold the body back until the client's delayed ACK of the headers (about 40 ms per request).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        return

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except TimeoutError:
            # The client kept the connection open without sending another request.
            self.close_connection = True


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
