"""Ingest tokens and the ingest of one batch of line protocol."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.sites.models import Site
from apps.telemetry import schema
from apps.telemetry.influx.client import get_client
from apps.telemetry.influx.escaping import duration_delta
from apps.telemetry.influx.points import Point
from apps.telemetry.lineprotocol import (
    INFLUX_PRECISION,
    MAX_TIME_NS,
    MIN_TIME_NS,
    PRECISION_NS,
    LineProtocolError,
    clean_batch_times,
    parse_line,
    split_lines,
)
from heatops.tokens import token_digest, token_new, token_well_formed

from . import token_cache
from .models import IngestToken
from .spool import get_spool, writer
from .together import writes_together

TOKEN_PREFIX = "hops_"
MAX_REPORTED_REJECTIONS = 100
EARLIEST_NS = 946_684_800 * 10**9  # 2000-01-01: anything older is a precision mistake


def ingest_token_issue(*, site: Site, name: str, user=None) -> tuple[IngestToken, str]:
    """Make a token for a site; return the row and the token, which is never shown again
    (the audit log keeps who issued which, by its prefix)."""
    new = token_new(TOKEN_PREFIX)
    with transaction.atomic():
        token = IngestToken.objects.create(
            site=site, name=name, prefix=new.prefix, key_hash=new.digest, created_by=user
        )
        audit_record(
            site=site,
            user=user,
            action="issued ingest token",
            obj=token,
            after={"name": name, "prefix": new.prefix},
        )
    return token, new.raw


def ingest_token_revoke(*, token: IngestToken, user=None) -> IngestToken:
    with transaction.atomic():
        token = IngestToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                site=token.site_id and token.site,
                user=user,
                action="revoked ingest token",
                obj=token,
                before={"state": "active"},
                after={"state": "revoked"},
            )
    return token


def ingest_token_authenticate(*, raw: str) -> IngestToken | None:
    """The active token matching ``raw``, or None. Notes its use at most once a minute.
    A token of an active site is remembered for the lean route (token_cache.py)."""
    if not token_well_formed(raw, TOKEN_PREFIX):
        return None
    digest = token_digest(raw)
    try:
        seen_generation = token_cache.generation()  # before the database is asked
        cacheable = True
    except Exception:  # the shared cache is down: answer from the database alone
        seen_generation, cacheable = None, False
    token = IngestToken.objects.select_related("site").filter(key_hash=digest, revoked_at=None).first()
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            IngestToken.objects.filter(pk=token.pk).update(last_used_at=now)
        if cacheable and token.site.is_active:
            token_cache.remember(digest, site_slug=token.site.slug, seen_generation=seen_generation)
    return token


def ingest_token_site(*, raw: str) -> str | None:
    """The slug of the active site an active token ``raw`` writes to, if this process
    checked the token in the database moments ago and nothing changed since; None means
    "ask the database" (``ingest_token_authenticate``), not "refused"."""
    if not token_well_formed(raw, TOKEN_PREFIX):
        return None
    return token_cache.known_site(token_digest(raw))


@dataclass
class IngestResult:
    """What became of one batch."""

    lines: int = 0
    written: int = 0
    rejected: list[dict] = field(default_factory=list)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)


RETENTION_MARGIN_NS = 86_400 * 10**9  # a day's slack for the spool to deliver in


def retention_ns(text: str) -> int | None:
    """The retention policy's duration (``INFLUX_RETENTION``, e.g. ``400d``) in ns; None
    for an infinite one (``INF``, ``0s``)."""
    try:
        keep = duration_delta(text.strip())
    except ValueError:
        return None  # INF, or 0s (which InfluxDB also reads as infinite)
    return (keep.days * 86_400 + keep.seconds) * 10**9 + keep.microseconds * 1000


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The times InfluxDB will keep: not before ``earliest``, not after ``latest`` (ns)."""

    earliest: int
    latest: int

    @classmethod
    def at(cls, now_ns: int) -> TimeWindow:
        earliest = EARLIEST_NS
        keep = retention_ns(settings.INFLUX.get("RETENTION", ""))
        if keep is not None:
            earliest = max(earliest, now_ns - keep + RETENTION_MARGIN_NS)
        return cls(earliest, now_ns + int(settings.HEATOPS_INGEST_MAX_FUTURE_S * 1e9))

    def check(self, time_ns: int) -> None:
        if not MIN_TIME_NS <= time_ns <= MAX_TIME_NS:
            raise schema.SchemaError(
                "the timestamp is outside InfluxDB's range (years 1677 to 2262): check the precision"
            )
        if time_ns > self.latest:
            raise schema.SchemaError(
                "the timestamp is in the future: check the agent's clock and the precision"
            )
        if time_ns < EARLIEST_NS:
            raise schema.SchemaError("the timestamp is before the year 2000: check the precision parameter")
        if time_ns < self.earliest:
            raise schema.SchemaError(
                "the timestamp is older than InfluxDB keeps data "
                f"(retention {settings.INFLUX.get('RETENTION')}, less a day): it would be dropped"
            )


def _check_line(parsed, *, site_slug: str, now_ns: int, factor: int, window: TimeWindow) -> Point:
    schema.validate(parsed.measurement, parsed.tags, parsed.fields)
    if parsed.tags["site"] != site_slug:
        raise schema.SchemaError(
            f"the line is for site {parsed.tags['site']!r}; this token belongs to site {site_slug!r}"
        )
    time_ns = now_ns if parsed.timestamp is None else parsed.timestamp * factor
    window.check(time_ns)
    return Point(parsed.measurement, parsed.tags, parsed.fields, time_ns)


def _deliver(payload: bytes, precision: str, site_slug: str) -> None:
    """Have InfluxDB store the batch before the answer, or keep it durably in the spool.

    With nothing waiting in the spool the batch goes straight to InfluxDB, which answers
    once its write-ahead log holds it (with batches of other requests arriving at the
    same moment, in one write: together.py). If InfluxDB does not take it (unreachable, slow,
    or refusing it), or batches are waiting before it (order is kept), it is kept in the
    spool (raises SpoolFull when that cannot take more), to be delivered by the
    background writer, or here and now when HEATOPS_INGEST_WRITE_BEHIND is off (the
    tests); a refusal is then set aside and raised there (spool.py)."""
    spool = get_spool()
    if not spool.pending() and writes_together.write(payload, INFLUX_PRECISION[precision]):
        return  # stored, and pushed to the live pages (together.py)
    spool.put(payload, precision=INFLUX_PRECISION[precision], site=site_slug)
    if settings.HEATOPS_INGEST_WRITE_BEHIND:
        writer.wake()
    else:
        spool.drain(get_client())


def ingest_plain_batch(
    *, site_slug: str, body: bytes, precision: str, now_ns: int | None = None
) -> int | None:
    """Accept a batch whose every line is plainly valid for the site, as ``ingest_batch``
    would, and return its number of lines; None (and nothing kept) for any other batch,
    which ``ingest_batch`` then checks line by line. Raises SpoolFull."""
    factor = PRECISION_NS[precision]
    now_ns = time.time_ns() if now_ns is None else now_ns
    plain = body.replace(b"\r\n", b"\n") if b"\r" in body else body
    times = clean_batch_times(plain, site_slug)
    if not times:
        return None
    window = TimeWindow.at(now_ns)
    if min(times) * factor < window.earliest or max(times) * factor > window.latest:
        return None
    _deliver(plain, precision, site_slug)
    return len(times)


def ingest_batch(
    *, site: Site, body: bytes, precision: str = "ns", now_ns: int | None = None
) -> IngestResult:
    """Check every line of a batch; accept the good ones (durably, see spool.py) for
    InfluxDB; report the bad ones by line number with the reason.

    A line is accepted only if InfluxDB 1.x will store it (lineprotocol.py gives
    InfluxDB's own verdict; the schema, the token's site and the times InfluxDB keeps are
    checked on top), so a 204 never stands for a line InfluxDB then refuses.
    Valid lines of a partly bad batch ARE written: one bad reading must not cost the rest.
    Lines without a timestamp are stamped with the time they arrived, so a batch
    delivered later from the spool keeps its true time.

    A batch whose every line is plainly valid (the usual Telegraf batch) is vouched for
    by one regex match and forwarded as it came, CRLF turned into LF and the precision
    named as InfluxDB 1.x knows it; any other batch is parsed line by line and forwarded
    in heatops' normal form (floats, nanoseconds).
    """
    now_ns = time.time_ns() if now_ns is None else now_ns
    accepted = ingest_plain_batch(site_slug=site.slug, body=body, precision=precision, now_ns=now_ns)
    if accepted is not None:
        return IngestResult(lines=accepted, written=accepted)

    factor = PRECISION_NS[precision]
    window = TimeWindow.at(now_ns)
    result = IngestResult()
    out: list[str] = []
    for number, line in split_lines(body.decode("utf-8")):
        result.lines += 1
        try:
            parsed = parse_line(line)
            point = _check_line(parsed, site_slug=site.slug, now_ns=now_ns, factor=factor, window=window)
            out.append(point.to_line())
        except (LineProtocolError, schema.SchemaError, ValueError) as exc:
            if len(result.rejected) < MAX_REPORTED_REJECTIONS:
                result.rejected.append({"line": number, "reason": str(exc), "text": line[:200]})
            else:
                result.rejected.append({"line": number})
    if out:
        _deliver("\n".join(out).encode(), "ns", site.slug)
        result.written = len(out)
    return result
