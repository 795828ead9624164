"""The connections ``InfluxClient.write_lines`` posts line protocol over.

Writes are the hot path (the ingest spool delivers every batch agents send): they go over
kept-alive ``http.client`` connections, which cost about a quarter of the CPU per request
that httpx does; queries keep httpx. Thread-safe: each request takes an idle connection
from the pool, or opens one, and gives it back when the answer is read.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
from urllib.parse import urlencode, urlsplit


class WriteTransportError(Exception):
    """InfluxDB could not be reached or did not answer in time."""


class WriteConnections:
    def __init__(self, url: str, *, timeout: float, username: str = "", password: str = "") -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        if username:
            pair = base64.b64encode(f"{username}:{password}".encode()).decode()
            self._headers["Authorization"] = f"Basic {pair}"
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self._timeout)

    def post(self, path: str, params: dict[str, str], body: bytes) -> tuple[int, str]:
        """POST ``body``; return InfluxDB's status and its error text ("" on success).
        A kept-alive connection the server has closed meanwhile is retried once on a new
        one (a write delivered twice is harmless: InfluxDB keys points by series and time)."""
        target = f"{self._prefix}{path}?{urlencode(params)}"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", target, body=body, headers=self._headers)
                response = conn.getresponse()
                text = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if attempt == 2:
                    raise WriteTransportError(f"closed the connection ({exc})") from exc
                continue
            except (OSError, http.client.HTTPException) as exc:  # refused, timed out, DNS
                conn.close()
                kind = "did not answer in time" if isinstance(exc, socket.timeout) else "is unreachable"
                raise WriteTransportError(f"{kind} ({exc})") from exc
            if response.will_close:
                conn.close()
            else:
                with self._lock:
                    self._idle.append(conn)
            return response.status, "" if response.status == 204 else _error_text(text, response.reason)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _error_text(body: bytes, reason: str) -> str:
    text = body.decode("utf-8", "replace")
    try:
        return json.loads(text).get("error", text).strip()
    except (ValueError, AttributeError):
        return text.strip() or reason
