"""The telemetry pump's cost per tick as the number of sites grows: 20, 200 and 1000.

    python -m bench.pump [--sizes 20,200,1000] [--ticks 10]

Starts InfluxDB and Redis as the tests do (heatops.devstack), makes N sites shaped like the
demo pool (its assets copied: 2 racks, 8 nodes, 2 PDUs, the plant) and writes their series
into InfluxDB at 1 Hz: 10 s of history, then one new point per series before every
measured tick, as if every site's agent had just sent its second. The pump runs in this
process with its real pipeline (alarm evaluation, the InfluxDB watch, the live pages'
rendering, caching and sending over the Redis channel layer), each size on a database of
its own. Per tick it measures this process's CPU (process_time, the writes excluded), the
time in the live pages' handler ("render"), and how many sites it rendered against how
many had a new point; then the same for a few "quiet" ticks in which only a tenth of the
sites sent anything (does it render only what changed?). Median of the ticks. The CPU
figure is the pump's whole tick, InfluxDB's answer parsed included. Prints its headline last:
    pump: per_site_ratio=<CPU per site at the largest size ÷ at the smallest> ms_per_tick_1000=<n>
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from heatops.devstack import stack, table

PREFIX = "bench-"
QUIET_TICKS = 3  # after the measured ones: only a tenth of the sites has a new point


def _series(slug: str, assets) -> list[str]:
    """One point's line protocol (without time) per series of a site shaped like the pool."""
    lines = [
        f"facility,site={slug} it_power_kw=48.5,total_power_kw=55.1",
        f"loop,loop=primary,site={slug} supply_temp_c=50.2,return_temp_c=41.1,delta_t_k=9.1,flow_m3h=4.2",
        f"consumer,site={slug} demand_kw=40.0,delivered_kw=39.5,target_temp_c=28.0,temp_c=27.9,online=true",
        f"weather,site={slug} outdoor_temp_c=7.5",
    ]
    by_kind = {
        "rack": "power_kw=21.5,inlet_temp_c=36.2",
        "node": "power_kw=5.2,utilisation_pct=63.0,inlet_temp_c=36.5,throttled=false",
        "pdu": "power_kw=21.9,energy_kwh=1234.5",
        "pump": "speed_pct=61.0,power_kw=0.6,running=true",
        "heat_exchanger": "heat_kw=45.1,approach_k=2.1",
        "buffer_tank": "top_temp_c=49.0,bottom_temp_c=41.0,soc_pct=71.0",
        "heat_meter": "power_kw=44.0,energy_kwh=9876.5,flow_m3h=4.1,supply_temp_c=49.5,return_temp_c=40.5",
        "dry_cooler": "heat_kw=0.0,power_kw=0.0,active=false",
        "sensor": "value=0.0",
    }
    measurement = {"buffer_tank": "tank", "sensor": "sensor"}
    for asset in assets:
        if asset.kind in by_kind:
            name = measurement.get(asset.kind, asset.kind)
            lines.append(f"{name},asset={asset.slug},site={slug} {by_kind[asset.kind]}")
    return lines


def make_sites(count: int):
    """``count`` active sites (the demo ones made inactive), each with the pool's assets."""
    from apps.assets.models import Asset
    from apps.sites.models import Site

    pool = Site.objects.get(slug="pool")
    Site.objects.exclude(slug__startswith=PREFIX).update(is_active=False)
    Site.objects.filter(slug__startswith=PREFIX).delete()
    template = list(Asset.objects.filter(site=pool).order_by("pk"))
    keep = {f.attname for f in Site._meta.concrete_fields} - {"id", "slug", "name", "is_active"}
    base = {name: getattr(pool, name) for name in keep}
    sites = Site.objects.bulk_create(
        [
            Site(**base, slug=f"{PREFIX}{n:04d}", name=f"Bench site {n:04d}", is_active=True)
            for n in range(count)
        ]
    )
    copies = []
    for site in sites:
        for asset in template:
            values = {f.attname: getattr(asset, f.attname) for f in Asset._meta.concrete_fields}
            values.update(id=None, site_id=site.pk, parent_id=None)
            copies.append(Asset(**values))
    Asset.objects.bulk_create(copies, batch_size=2000)
    return sites, template


def write_second(client, lines_per_site: list[list[str]], t_s: int) -> None:
    body = "\n".join(f"{line} {t_s}" for lines in lines_per_site for line in lines)
    client.write_lines(body, precision="s")


def measure(size: int, ticks: int, influx_url: str) -> dict:
    from django.conf import settings

    import apps.dashboard.live as live
    from apps.telemetry.influx.client import InfluxClient, reset_client
    from apps.telemetry.pump import TelemetryPump

    database = f"pump{size}"
    settings.INFLUX = {**settings.INFLUX, "URL": influx_url, "DB": database}
    reset_client()
    writer = InfluxClient(url=influx_url, database=database, retention_policy="heatops")
    writer.ensure_database(retention="400d")

    sites, template = make_sites(size)
    lines = [_series(site.slug, template) for site in sites]
    now = int(time.time())
    for t in range(now - 10, now):
        write_second(writer, lines, t)

    renders = [0]
    original = live.render_site

    def counted(status):
        renders[0] += 1
        return original(status)

    live.render_site = counted
    live.publish.configs, live.publish.last = {}, {}  # this size's sites, from the first tick
    pump = TelemetryPump()
    timed = {"render": 0.0}

    def timing(handler):
        def run(snapshot):
            started = time.perf_counter()
            handler(snapshot)
            if handler is live.publish:
                timed["render"] += time.perf_counter() - started

        return run

    pump.handlers = [timing(h) for h in pump.handlers]
    try:
        pump.tick()  # the first read after a start: seeds the state, renders every site once
        rows, errors = [], []
        for n in range(ticks + QUIET_TICKS):
            second = int(time.time())
            quiet = n >= ticks  # a tick where a tenth of the sites sent anything
            write_second(writer, lines[: max(1, size // 10)] if quiet else lines, second)
            renders[0], timed["render"] = 0, 0.0
            cpu, wall = time.process_time(), time.perf_counter()
            snapshot = pump.tick()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            rows.append((cpu * 1000, wall * 1000, timed["render"] * 1000, renders[0], len(snapshot.changed)))
            if not snapshot.influx_ok:
                errors.append(snapshot.error)
            time.sleep(max(0.0, second + 1 - time.time()))
    finally:
        live.render_site = original
    series = len(lines[0])
    quiet, rows = rows[ticks:], rows[:ticks]
    med = [statistics.median(r[i] for r in rows) for i in range(5)]
    return {
        "sites": size,
        "series": size * series,
        "cpu_ms": med[0],
        "wall_ms": med[1],
        "render_ms": med[2],
        "rendered": med[3],
        "changed": med[4],
        "quiet_rendered": statistics.median(r[3] for r in quiet),
        "quiet_changed": statistics.median(r[4] for r in quiet),
        "quiet_render_ms": statistics.median(r[2] for r in quiet),
        "failed_reads": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20,200,1000")
    parser.add_argument("--ticks", type=int, default=10)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    with stack(web=False, database="pumpbench") as s:
        os.environ.update(s.env)
        import django

        django.setup()
        results = [measure(size, args.ticks, s.influx_url) for size in sizes]

    print(
        f"median of {args.ticks} ticks per size, every site with a new point in every series each tick;\n"
        f"quiet: median of {QUIET_TICKS} more ticks in which a tenth of the sites has new points\n"
    )
    print(
        table(
            [
                (
                    r["sites"],
                    r["series"],
                    f"{r['cpu_ms']:.1f}",
                    f"{r['cpu_ms'] / r['sites']:.2f}",
                    f"{r['wall_ms']:.1f}",
                    f"{r['render_ms']:.1f}",
                    f"{r['rendered']:.0f}",
                    f"{r['changed']:.0f}",
                    f"{r['quiet_changed']:.0f}",
                    f"{r['quiet_rendered']:.0f}",
                    f"{r['quiet_render_ms']:.1f}",
                )
                for r in results
            ],
            (
                "sites",
                "series",
                "cpu_ms",
                "cpu_ms/site",
                "wall_ms",
                "render_ms",
                "rendered",
                "changed",
                "quiet:changed",
                "rendered",
                "render_ms",
            ),
        )
    )
    for r in results:
        if r["failed_reads"]:
            print(
                f"{r['sites']} sites: {len(r['failed_reads'])} reads failed, e.g. {r['failed_reads'][0][:200]}"
            )
    first, last = results[0], results[-1]
    ratio = (last["cpu_ms"] / last["sites"]) / (first["cpu_ms"] / first["sites"])
    print(f"\npump: per_site_ratio={ratio:.2f} ms_per_tick_{last['sites']}={last['cpu_ms']:.0f}")


if __name__ == "__main__":
    main()
