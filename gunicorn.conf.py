"""gunicorn's settings file, read from the working directory at start.

https://docs.gunicorn.org/en/stable/configure.html#configuration-file

Only logging lives here: with ``PORTAL_LOG_FORMAT=json`` gunicorn's own lines (its error log, and the access log
where ``--access-logfile`` asks for one) are JSON objects like the portal's (mintportal/logs.py), on the streams
gunicorn chose; the portal's own loggers follow ``LOGGING`` in mintportal/settings.py.
"""

from gunicorn.glogging import Logger

from mintportal.env import env
from mintportal.logs import JsonLinesFormatter


class JsonLinesLogger(Logger):
    """gunicorn's logger, its handlers formatting JSON lines."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonLinesFormatter())


if env.choice("PORTAL_LOG_FORMAT", "text", choices=("text", "json")) == "json":
    logger_class = JsonLinesLogger

# The access log names the path, never the query string or the referrer: an address can carry a person's value
# (the journeys list's exact search by national id), and a log keeps it out of reach of retention and erasure.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
