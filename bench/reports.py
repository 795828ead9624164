"""Monthly report time against the bare InfluxQL it needs, in one run on the same machine.

    python -m bench.reports [--site-step 10] [--portfolio-sites 20] [--portfolio-step 60] [--rounds 3]

One site-month of telemetry at --site-step seconds, the same with the faults a real month
has (IT power lost for 10.5 hours while the facility total is metered, a 6.5-hour gap of
the heat meter, a register reset, 0.2 % of the points lost at random: those hours are read
again point by point), and a portfolio of --portfolio-sites sites at --portfolio-step
seconds (facility, heat meter, consumer, pump: 4 lines a step, 8 fields) are written to a
fresh InfluxDB (the most recent complete October, London). The run waits until InfluxDB has moved them from
its write-ahead log to TSM files, as last month's data is when a report is read, then
times, alternating, each round:

- report: the figures as the report page computes them (heatops' queries, parsing and
  arithmetic; no comparison months, no HTML);
- bare: the very statements the report sent, POSTed straight to /query and the JSON
  decoded, nothing else;
- integrals: for scale, one plain integral() per field over the month (what a naive
  report would send; it bridges gaps, so the report does not use it).

Prints a table and, last, the headline (the clean site-month's ratio and time):
    reports: ratio=<report time / bare queries time> site_month_s=<n> portfolio_s=<n>
             faults_ratio=<n> faults_s=<n>
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from heatops.devservices.base import free_port
from heatops.devservices.stores import InfluxServer
from heatops.devstack import median, stack, table

TZ = "Europe/London"


def recent_october() -> tuple[int, int]:
    """The most recent complete October in London (745 hours): within the retention."""
    from apps.reports.periods import local_today

    today = local_today(TZ, datetime.now(UTC))
    return (today.year if today.month > 10 else today.year - 1), 10


class SnappyInflux(InfluxServer):
    """InfluxDB that writes its cache to TSM files after 2 s without writes (default 10 min),
    so the bench reads what a report reads in production: compacted files, not the WAL."""

    def command(self) -> list[str]:
        cmd = super().command()
        conf = self.root / "influxdb.conf"
        conf.write_text(
            conf.read_text().replace("[data]\n", '[data]\n  cache-snapshot-write-cold-duration = "2s"\n')
        )
        return cmd


def write_month(
    url: str, db: str, site: str, step_s: int, start: datetime, end: datetime, faults: bool = False
) -> int:
    """A month of one site's telemetry, generated as line protocol in big batches; with
    ``faults``, the gaps, the reset and the lost points of the module's docstring."""
    lines: list[str] = []
    written = 0
    t0, t1 = int(start.timestamp()), int(end.timestamp())
    energy = 0.0
    rng = random.Random(site)
    day = 86400
    it_gap = (t0 + 11 * day + 21 * 3600 + 1800, t0 + 12 * day + 8 * 3600)
    meter_gap = (t0 + 7 * day + 10 * 3600, t0 + 7 * day + 16 * 3600 + 1800)
    reset = t0 + 18 * day + 14 * 3600 + 37 * 60 + 3

    def kept(t: int) -> bool:
        return not faults or rng.random() >= 0.002

    with httpx.Client(timeout=120) as http:

        def flush():
            nonlocal lines, written
            r = http.post(
                f"{url}/write", params={"db": db, "rp": "heatops", "precision": "s"}, content="\n".join(lines)
            )
            r.raise_for_status()
            written += len(lines)
            lines = []

        for i, t in enumerate(range(t0, t1, step_s)):
            hour = (t // 3600) % 24
            it = 30.0 + (i % 11)
            heat = 0.8 * it
            energy += heat * step_s / 3600
            if faults and reset <= t < reset + step_s:
                energy = heat * (t - reset) / 3600  # the register restarts from zero
            supply = 58.5 if hour == 7 else 48.0
            demand = 0.0 if hour < 5 else 25.0
            if kept(t):
                it_field = "" if faults and it_gap[0] <= t < it_gap[1] else f"it_power_kw={it},"
                lines.append(f"facility,site={site} {it_field}total_power_kw={it * 1.12:.3f} {t}")
            if kept(t) and not (faults and meter_gap[0] <= t < meter_gap[1]):
                lines.append(
                    f"heat_meter,asset=meter-1,site={site} power_kw={heat:.3f},energy_kwh={energy:.4f},"
                    f"supply_temp_c={supply} {t}"
                )
            if kept(t):
                lines.append(f"consumer,site={site} demand_kw={demand} {t}")
            if kept(t):
                lines.append(
                    f"pump,asset=pump-primary,site={site} running={'true' if hour != 3 else 'false'} {t}"
                )
            if len(lines) >= 100_000:
                flush()
        if lines:
            flush()
    return written


def wait_for_tsm(root: Path, timeout: float = 180) -> float:
    """Seconds until the write-ahead log is flushed to TSM files."""
    started = time.monotonic()
    wal = root / "wal"
    time.sleep(3)
    while time.monotonic() - started < timeout:
        size = sum(f.stat().st_size for f in wal.rglob("*.wal"))
        if size < 1_000_000:
            return time.monotonic() - started
        time.sleep(1)
    return time.monotonic() - started


def bare(url: str, db: str, batches: list[str], per_request: list | None = None) -> float:
    started = time.perf_counter()
    with httpx.Client(timeout=300) as http:
        for batch in batches:
            t = time.perf_counter()
            r = http.post(f"{url}/query", data={"db": db, "rp": "heatops", "q": batch, "epoch": "ms"})
            r.raise_for_status()
            r.json()
            if per_request is not None:
                per_request.append(time.perf_counter() - t)
    return time.perf_counter() - started


def integrals(url: str, db: str, sites: list[str], start: datetime, end: datetime) -> float:
    fields = {
        "facility": ["it_power_kw", "total_power_kw"],
        "heat_meter": ["power_kw", "energy_kwh", "supply_temp_c"],
        "consumer": ["demand_kw"],
    }
    where = (
        f"time >= '{start:%Y-%m-%dT%H:%M:%SZ}' AND time < '{end:%Y-%m-%dT%H:%M:%SZ}' AND ("
        + " OR ".join(f"site = '{s}'" for s in sites)
        + ")"
    )
    statements = [
        f"SELECT {', '.join(f'integral({f}, 1h)' for f in fs)} FROM {m} WHERE {where} GROUP BY site"
        for m, fs in fields.items()
    ]
    return bare(url, db, [";".join(statements)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site-step", type=int, default=10)
    parser.add_argument("--portfolio-sites", type=int, default=20)
    parser.add_argument("--portfolio-step", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="heatops-bench-reports-"))
    influx = SnappyInflux(root=tmp / "influxdb", port=free_port(), fsync_delay="0s")
    influx.start()
    try:
        with stack(web=False, influx_url=influx.url, database="bench") as s:
            os.environ.update(s.env)
            import django

            django.setup()
            from apps.reports.compute import Job, collect
            from apps.reports.figures import figures
            from apps.reports.periods import month_period
            from apps.sites.models import Site
            from apps.telemetry.influx.client import InfluxClient

            year, month = recent_october()
            period = month_period(TZ, year, month)
            start, end = period.start_utc, period.end_utc
            pool = Site.objects.get(slug="pool")
            template = {
                f.name: getattr(pool, f.name)
                for f in Site._meta.concrete_fields
                if f.name not in {"id", "name", "slug", "created_at", "updated_at"}
            }
            portfolio = [
                Site.objects.update_or_create(
                    slug=f"p{i:02d}", defaults={**template, "name": f"Portfolio {i:02d}"}
                )[0]
                for i in range(1, args.portfolio_sites + 1)
            ]
            faulty = Site.objects.update_or_create(
                slug="faulty", defaults={**template, "name": "Faulty Pool"}
            )[0]

            t = time.perf_counter()
            lines = write_month(influx.url, s.database, "pool", args.site_step, start, end)
            lines += write_month(influx.url, s.database, "faulty", args.site_step, start, end, faults=True)
            for site in portfolio:
                lines += write_month(influx.url, s.database, site.slug, args.portfolio_step, start, end)
            write_s = time.perf_counter() - t
            flush_s = wait_for_tsm(influx.root)
            print(
                f"wrote {lines:,} lines in {write_s:.0f} s ({lines / write_s:,.0f}/s); "
                f"TSM after {flush_s:.0f} s more"
            )

            client = InfluxClient(
                url=influx.url, database=s.database, retention_policy="heatops", timeout=300
            )

            def report(sites):
                jobs = [Job(site=site, period=month_period(site.timezone, year, month)) for site in sites]
                sent = collect(jobs, client=client)
                return [figures(j) for j in jobs], sent

            cases = {
                "site-month": ([pool], ["pool"], args.site_step),
                "faults": ([faulty], ["faulty"], args.site_step),
                "portfolio": (portfolio, [p.slug for p in portfolio], args.portfolio_step),
            }
            rows, medians = [], {}
            for name, (sites, slugs, step) in cases.items():
                report(sites)  # warm up
                times = {"report": [], "bare": [], "integrals": []}
                for round_no in range(args.rounds):
                    t = time.perf_counter()
                    figs, sent = report(sites)
                    times["report"].append(time.perf_counter() - t)
                    per_request: list[float] = []
                    times["bare"].append(bare(influx.url, s.database, sent, per_request))
                    times["integrals"].append(integrals(influx.url, s.database, slugs, start, end))
                    rows.append(
                        (
                            name,
                            len(sites),
                            f"{step} s",
                            round_no + 1,
                            len(sent),
                            sum(b.count(";") + 1 for b in sent),
                            f"{times['report'][-1]:.3f}",
                            f"{times['bare'][-1]:.3f}",
                            f"{times['integrals'][-1]:.3f}",
                            f"{times['report'][-1] / times['bare'][-1]:.2f}",
                            "+".join(f"{x:.2f}" for x in per_request),
                        )
                    )
                medians[name] = {k: median(v) for k, v in times.items()}
                check = figs[0]
                print(
                    f"{name}: {check['site']} heat {check['heat_delivered_kwh']:,.0f} kWh, "
                    f"IT {check['it_energy_kwh']:,.0f} kWh, SLA {100 * check['sla_compliance']:.2f} %, "
                    f"coverage {100 * check['it_energy_coverage']:.1f} %, PUE {check['pue']:.3f} over "
                    f"{100 * check['pue_coverage']:.1f} %"
                )
            print(f"\n{period.label} ({period.hours:.0f} h, {TZ}); median of {args.rounds} rounds\n")
            print(
                table(
                    rows,
                    (
                        "case",
                        "sites",
                        "step",
                        "round",
                        "requests",
                        "statements",
                        "report_s",
                        "bare_s",
                        "integrals_s",
                        "ratio",
                        "bare_per_request_s",
                    ),
                )
            )
            site, folio = medians["site-month"], medians["portfolio"]
            print()
            for name, m in medians.items():
                print(
                    f"{name}: report {m['report']:.3f} s, bare {m['bare']:.3f} s, ratio {m['report'] / m['bare']:.2f}"
                )
            faults = medians["faults"]
            print(
                f"\nreports: ratio={site['report'] / site['bare']:.2f} site_month_s={site['report']:.3f} "
                f"portfolio_s={folio['report']:.3f} faults_ratio={faults['report'] / faults['bare']:.2f} "
                f"faults_s={faults['report']:.3f}"
            )
    finally:
        influx.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
