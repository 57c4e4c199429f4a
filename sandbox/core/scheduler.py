"""The one background thread of ``serve``: about once a second it runs what fell due (timers, inactivity
cancellations, event deliveries) by the sandbox clock."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

from sandbox.core.services import run_due

logger = logging.getLogger(__name__)

TICK_SECONDS = 1.0


class Scheduler:
    """Runs :func:`run_due` every tick until :meth:`stop`."""

    def __init__(self, tick: float = TICK_SECONDS) -> None:
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                run_due()
            except Exception:
                # A failing tick is logged and retried next tick; the thread must keep running.
                logger.exception("the scheduler tick failed")
            finally:
                close_old_connections()
