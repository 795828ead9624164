"""The client: writes points and runs statements over the v1 HTTP API, and the
process-wide instance built from settings."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

import httpx

from .errors import InfluxUnavailable, InfluxWriteError, query_refused
from .escaping import duration, duration_delta, quote_ident
from .points import Point
from .results import Reading, Series
from .statements import latest_statement, window_statement
from .writes import WriteConnections, WriteTransportError


class InfluxClient:
    """A client for one InfluxDB database, thread-safe, with pooled connections."""

    def __init__(
        self,
        *,
        url: str,
        database: str,
        username: str = "",
        password: str = "",
        timeout: float = 5.0,
        retention_policy: str = "",
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.retention_policy = retention_policy
        auth = httpx.BasicAuth(username, password) if username else None
        self._http = httpx.Client(base_url=self.url, timeout=timeout, auth=auth)
        self._writes = WriteConnections(self.url, timeout=timeout, username=username, password=password)
        self.queries = 0  # statements sent; the live bench reads it

    def close(self) -> None:
        self._http.close()
        self._writes.close()

    def __repr__(self) -> str:
        return f"<InfluxClient {self.url} db={self.database}>"

    # transport ------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise InfluxUnavailable(f"InfluxDB at {self.url} did not answer in time ({exc})") from exc
        except httpx.TransportError as exc:
            raise InfluxUnavailable(f"InfluxDB at {self.url} is unreachable ({exc})") from exc

    def ping(self) -> bool:
        try:
            return self._request("GET", "/ping").status_code == 204
        except InfluxUnavailable:
            return False

    # writing --------------------------------------------------------------------------

    def write_lines(self, body: str | bytes, *, precision: str = "ns", database: str | None = None) -> None:
        """Write line protocol as it is. Raises InfluxWriteError with InfluxDB's reason."""
        params = {"db": database or self.database, "precision": precision}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        if isinstance(body, str):
            body = body.encode()
        try:
            status, error = self._writes.post("/write", params, body)
        except WriteTransportError as exc:
            raise InfluxUnavailable(f"InfluxDB at {self.url} {exc}") from exc
        if status != 204:
            raise InfluxWriteError(f"InfluxDB refused the write ({status}): {error}")

    def write(self, points: Iterable[Point], *, batch_size: int = 5000) -> int:
        """Write points in batches of ``batch_size`` lines; return how many were written."""
        written = 0
        batch: list[str] = []
        for point in points:
            batch.append(point.to_line())
            if len(batch) >= batch_size:
                self.write_lines("\n".join(batch))
                written += len(batch)
                batch.clear()
        if batch:
            self.write_lines("\n".join(batch))
            written += len(batch)
        return written

    # querying -------------------------------------------------------------------------

    def query(
        self, statement: str, *, method: str = "GET", timeout: float | None = None
    ) -> list[list[Series]]:
        """Run one or more InfluxQL statements (``;``-separated) in one request.

        Returns one list of Series per statement. Raises InfluxQueryError if InfluxDB
        reports an error for the request or for any statement. ``timeout`` (seconds)
        overrides the client's for this request (reports read a month at once).
        """
        params = {"db": self.database, "q": statement, "epoch": "ms"}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        extra = {"timeout": timeout} if timeout is not None else {}
        if method == "GET":
            response = self._request("GET", "/query", params=params, **extra)
        else:
            response = self._request("POST", "/query", data=params, **extra)
        self.queries += 1
        if response.status_code >= 400:
            raise query_refused(statement, f"({response.status_code}) {_error_text(response)}")
        results = []
        for result in response.json().get("results", []):
            if "error" in result:
                raise query_refused(statement, result["error"])
            results.append(
                [
                    Series(s.get("name", ""), s.get("tags") or {}, s.get("columns", []), s.get("values", []))
                    for s in result.get("series", [])
                ]
            )
        return results

    def select(self, statement: str) -> list[Series]:
        """Run one SELECT; return its series."""
        results = self.query(statement)
        return results[0] if results else []

    def ensure_database(self, *, retention: str = "400d") -> None:
        """Create the database and make ``retention_policy`` its default; safe to repeat."""
        db = quote_ident(self.database)
        rp = quote_ident(self.retention_policy or "autogen")
        self.query(f"CREATE DATABASE {db}", method="POST")
        existing = {row["name"] for s in self.select(f"SHOW RETENTION POLICIES ON {db}") for row in s.rows()}
        verb = "ALTER" if (self.retention_policy or "autogen") in existing else "CREATE"
        replication = "" if verb == "ALTER" else " REPLICATION 1"
        self.query(
            f"{verb} RETENTION POLICY {rp} ON {db} DURATION {duration(retention)}{replication} DEFAULT",
            method="POST",
        )

    def drop_database(self) -> None:
        self.query(f"DROP DATABASE {quote_ident(self.database)}", method="POST")

    # the reads heatops needs ----------------------------------------------------------

    def latest(
        self,
        *,
        lookback: str = "1h",
        measurements: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        now: datetime | None = None,
        points: int = 1,
    ) -> list[Reading]:
        """The latest reading of every series (of every site) in one query.

        ``lookback`` bounds how far back from ``now`` (heatops' clock, this machine's by
        default; never InfluxDB's own ``now()``, whose clock may differ) a series' last
        point may lie; older series are absent from the answer (and so show as stale
        upstream). With ``points`` > 1 the last that many points of each series are read
        and folded into one reading that holds each field's newest value and its time, so
        a field written in a point of its own is not hidden by the next point without it.
        """
        start = (now or datetime.now(UTC)) - duration_delta(lookback)
        statement = latest_statement(start=start, measurements=measurements, tags=tags, points=points)
        readings = []
        for series in self.select(statement):
            # GROUP BY * over several measurements names every tag key; '' means absent
            tags = {k: v for k, v in series.tags.items() if v != ""}
            reading = None
            for row in series.rows():  # newest first
                time_ms = row.pop("time")
                values = {k: v for k, v in row.items() if v is not None and k not in series.tags}
                if reading is None:
                    reading = Reading(series.name, tags, time_ms, values, dict.fromkeys(values, time_ms))
                    continue
                for name, value in values.items():
                    if name not in reading.fields:
                        reading.fields[name], reading.field_ms[name] = value, time_ms
            if reading is not None:
                readings.append(reading)
        return readings

    def window(self, **spec) -> list[Series]:
        """Downsampled series for charts: ``window_statement(**spec)``, the ``aggregate`` of
        each field per ``every`` bucket."""
        return self.select(window_statement(**spec))

    def windows(self, specs: Sequence[Mapping]) -> list[list[Series]]:
        """Several ``window`` reads (each a dict of its arguments) in one request."""
        return self.query(";".join(window_statement(**spec) for spec in specs))

    def rollups(self, statements: Sequence[str], *, timeout: float | None = None) -> list[list[Series]]:
        """Several ``hourly_statement``/``rollup_statement`` statements in one request
        (POST: the batch can be long)."""
        if not statements:
            return []
        return self.query(";".join(statements), method="POST", timeout=timeout)


def _error_text(response: httpx.Response) -> str:
    try:
        return response.json().get("error", response.text).strip()
    except ValueError:
        return response.text.strip() or response.reason_phrase


# --- the shared client ----------------------------------------------------------------

_client: InfluxClient | None = None
_client_lock = threading.Lock()


def get_client() -> InfluxClient:
    """The process-wide client built from settings.INFLUX."""
    global _client
    with _client_lock:
        if _client is None:
            from django.conf import settings

            conf = settings.INFLUX
            _client = InfluxClient(
                url=conf["URL"],
                database=conf["DB"],
                username=conf.get("USERNAME", ""),
                password=conf.get("PASSWORD", ""),
                timeout=float(conf.get("TIMEOUT", 5)),
                retention_policy=conf.get("RETENTION_POLICY", ""),
            )
        return _client


def reset_client(**_kwargs) -> None:
    """Forget the shared client (settings changed); the next get_client() builds a new one."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None
