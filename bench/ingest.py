"""Throughput of the ingest endpoint against writing the same batches straight to
InfluxDB's /write, in one run on the same machine.

    python -m bench.ingest [--lines 100000] [--batch-sizes 1000,5000] [--rounds 3]

Batches are shaped as Telegraf sends them (tags sorted by key, second precision, the
site token in the Authorization header), at Telegraf's default metric_batch_size of 1000
and at 5000. Raw and endpoint runs alternate, each on a fresh database, and the median of
the rounds is reported. A run counts until every point is stored in InfluxDB: the
endpoint's spool is empty and InfluxDB counts them all. Prints its headline last, for
1000-line batches (ratio, endpoint_pps, raw_pps) and 5000-line ones (ratio_5000):
    ingest: ratio=<endpoint ÷ raw> ratio_5000=<n> endpoint_pps=<n> raw_pps=<n>
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.statements import hourly_statement
from heatops.devstack import median, stack, table

RACKS = [f"rack-{c}" for c in "ab"]
NODES = [f"node-{r}{n}" for r in "ab" for n in range(1, 5)]


def make_batches(count: int, size: int, start_s: int) -> list[bytes]:
    rng = random.Random(7)
    batches, t = [], start_s
    for _ in range(count):
        lines = []
        while len(lines) < size:
            t += 1
            for node in NODES:
                lines.append(
                    f"node,asset={node},site=pool power_kw={rng.uniform(2, 9):.3f},"
                    f"utilisation_pct={rng.uniform(10, 100):.1f},inlet_temp_c={rng.uniform(30, 40):.2f} {t}"
                )
            for rack in RACKS:
                lines.append(f"rack,asset={rack},site=pool power_kw={rng.uniform(10, 38):.3f} {t}")
        batches.append("\n".join(lines[:size]).encode())
    return batches


def stored(client: InfluxClient, start_s: int) -> int:
    """How many of a round's points InfluxDB holds (counted inside InfluxDB)."""
    start = datetime.fromtimestamp(start_s, UTC)
    total = 0
    for measurement in ("node", "rack"):
        count = hourly_statement(
            measurement=measurement,
            calls={"n": ("count", "power_kw")},
            start=start,
            end=start + timedelta(days=2),
            every=None,
        )
        for series in client.rollups([count])[0]:
            total += sum(v for _, v in series.values)
    return total


def run(
    http: httpx.Client,
    url: str,
    batches: list[bytes],
    headers: dict,
    params: dict,
    reader: InfluxClient,
    start_s: int,
    spool: Path | None = None,
) -> tuple[float, float]:
    """Lines per second accepted, and lines per second until all of them are in InfluxDB."""
    lines = sum(b.count(b"\n") + 1 for b in batches)
    started = time.perf_counter()
    for body in batches:
        r = http.post(url, content=body, headers=headers, params=params)
        if r.status_code != 204:
            raise RuntimeError(f"{url} answered {r.status_code}: {r.text[:300]}")
    answered = time.perf_counter() - started
    deadline = time.monotonic() + 60
    # the spool's files are removed once InfluxDB has them: wait for that without asking
    # InfluxDB to count 100,000 points every few milliseconds (it would slow the writes)
    while spool is not None and any(spool.glob("*.lp")) and time.monotonic() < deadline:
        time.sleep(0.001)
    while stored(reader, start_s) < lines:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {stored(reader, start_s)} of {lines} points reached InfluxDB")
        time.sleep(0.01)
    landed = time.perf_counter() - started
    return lines / answered, lines / landed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000, help="lines per round")
    parser.add_argument("--batch-sizes", default="1000,5000", help="the first one is the headline's ratio")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(x) for x in args.batch_sizes.split(",")]

    with stack() as s:
        token = s.django_shell(
            "from apps.sites.models import Site; from apps.ingest.services import ingest_token_issue; "
            "print(ingest_token_issue(site=Site.objects.get(slug='pool'), name='bench')[1])"
        )
        heatops_db = InfluxClient(url=s.influx_url, database="bench", retention_policy="heatops")
        rows, medians = [], {}
        with httpx.Client(timeout=60) as http:
            for size in sizes:
                raw_pps, end_pps = [], []
                for round_no in range(args.rounds):
                    start = int(time.time()) - 60 * 86400 + (len(rows) + 1) * 86400
                    batches = make_batches(max(1, args.lines // size), size, start)
                    raw_db = InfluxClient(url=s.influx_url, database=f"raw{len(rows)}")
                    raw_db.ensure_database(retention="400d")
                    raw = run(
                        http,
                        f"{s.influx_url}/write",
                        batches,
                        {},
                        {"db": raw_db.database, "precision": "s"},
                        raw_db,
                        start,
                    )[1]
                    answered, landed = run(
                        http,
                        f"{s.web_url}/ingest/pool/write",
                        batches,
                        {"Authorization": f"Token {token}"},
                        {"db": "telegraf", "precision": "s"},
                        heatops_db,
                        start,
                        s.root / "spool",
                    )
                    raw_pps.append(raw)
                    end_pps.append(landed)
                    rows.append(
                        (
                            size,
                            round_no + 1,
                            f"{raw:,.0f}",
                            f"{answered:,.0f}",
                            f"{landed:,.0f}",
                            f"{landed / raw:.2f}",
                        )
                    )
                medians[size] = (median(raw_pps), median(end_pps))
        print(f"{args.lines:,} lines per round, sequential POSTs from one agent, precision=s")
        print(
            "endpoint_pps counts until every point is stored in InfluxDB; answered_pps until the last 204\n"
        )
        print(table(rows, ("batch", "round", "raw_pps", "answered_pps", "endpoint_pps", "ratio")))
        print()
        for size, (raw, end) in medians.items():
            print(f"batch {size}: median ratio {end / raw:.2f}")
        raw, end = medians[sizes[0]]
        others = " ".join(f"ratio_{size}={e / r:.2f}" for size, (r, e) in medians.items() if size != sizes[0])
        print(
            f"\ningest: ratio={end / raw:.2f} {others} endpoint_pps={end:.0f} raw_pps={raw:.0f}".replace(
                "  ", " "
            )
        )


if __name__ == "__main__":
    main()
