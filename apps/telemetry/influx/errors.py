"""What can go wrong talking to InfluxDB.

- ``InfluxUnavailable``: InfluxDB could not be reached (refused, timed out, DNS).
- ``InfluxQueryError`` / ``InfluxWriteError``: InfluxDB answered with an error; the message
  carries InfluxDB's own words. A query error's message leaves the InfluxQL statement out
  (messages reach browsers); it is logged, and kept as the exception's ``statement``.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class InfluxError(Exception):
    """Anything that went wrong talking to InfluxDB."""


class InfluxUnavailable(InfluxError):
    """InfluxDB could not be reached at all."""


class InfluxQueryError(InfluxError):
    """InfluxDB answered a query with an error. The message is InfluxDB's reason only;
    the statement is in ``statement`` and in the log, never in the message."""

    def __init__(self, message: str, *, statement: str = "") -> None:
        super().__init__(message)
        self.statement = statement


def query_refused(statement: str, reason: str) -> InfluxQueryError:
    log.warning("InfluxDB refused %s: %s", statement, reason)
    return InfluxQueryError(f"InfluxDB refused a query: {reason}", statement=statement)


class InfluxWriteError(InfluxError):
    """InfluxDB refused (part of) a write."""
