"""The current request's id, for every log line written while it is answered.

Apart from cityops.requestlog, which sets it, because the logging configuration imports this module before the
apps are loaded: it imports nothing of Django's.
"""

import logging
from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record, so that the traceback of a failure carries the id its
    error page showed (and "-" outside any request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True
