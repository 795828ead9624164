"""End-to-end latency of the live dashboards: from a point written to InfluxDB to its
arrival at N concurrent websocket clients, beside a bare Channels echo over the same Redis
channel layer, in one run on the same machine.

    python -m bench.live [--clients 1,10,100] [--sites 20] [--seconds 20] [--warmup 5]

The whole product runs as deploy/run starts it (InfluxDB, Redis, Daphne, the telemetry
pump, each its own process; heatops.devstack), with 18 copies of the demo sites added
before the pump starts, so 20 sites are live. While each row runs, a writer stores a
`facility` point for every site once a second, in one batch, stamped with the wall clock;
each slot is offset by a random fraction of a pump tick, as real agents are not in phase
with the pump. Clients log in (a session each) and open /ws/sites/<slug>/, spread
round-robin over the sites (so 1 client watches the pool); on each update they read the IT
power point's time out of `#live-points` and record now − time for points they have not
seen yet. Only points written inside the measurement window count; "delivered" is the
share of (point, client) pairs that arrived at all (the pump shows the newest point, so a
tick that falls behind skips one); p50_by_site is the lowest..highest median of one site.

The baseline is a second Daphne serving bench/echo_asgi.py: clients join group
bench.echo.<n> the same round-robin way, and the bench group_sends {"t": now_ms} to each
of the 20 groups once a second through channels_redis, as the pump publishes one update
per site and second. Same clients, same clock, same Redis.

queries_per_tick: InfluxDB's own count of /query requests (SHOW STATS, httpd queryReq)
over the window, less the bench's own one, divided by the ticks the pump would make in the
window at its cadence (window ÷ HEATOPS_PUMP_TICK_S): nothing outside the pump marks a
tick, so they cannot be counted. It should be 1 whatever the number of viewers; below 1
means the pump fell behind its cadence (a late pump does not catch up), not that a tick
went without its query.

Also times the portfolio page and a site page (authenticated GETs). Prints its headline last:
    live: p99_ms=<n> p50_ms=<n> clients=<largest N> echo_p99_ms=<n> queries_per_tick=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from channels_redis.core import RedisChannelLayer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.errors import InfluxError
from apps.telemetry.influx.points import Point
from bench.echo_asgi import echo_group
from heatops.devstack import Stack, median, percentile, stack, table

TARGET_P99_MS = 1000
PAGES = ["/", "/sites/pool/"]
# Websocket handshakes (and closes) in flight at once. Each consumer's group_add and
# group_discard borrows a connection from channels_redis' pool, which redis-py caps at 100
# per process and then refuses (MaxConnectionsError: HTTP 500 to a connecting client, a
# group left behind by a closing one) rather than waits: 100 clients connecting or leaving
# in the same instant overflow it.
AT_ONCE = 10

# Sites 3..N as copies of the two demo sites (racks, nodes, plant and all), through the
# demo's own seeding so they are configured exactly as the demo's are.
ADD_SITES = """
from unittest import mock
from apps.demo import sites as demo
specs = [dict(demo.SITES[i %% 2], slug=f"site-{i:02d}", name=f"Bench site {i:02d}") for i in range(3, %d + 1)]
with mock.patch.object(demo, "SITES", specs):
    demo.seed_demo_sites()
from apps.sites.models import Site
print(",".join(Site.objects.filter(is_active=True).order_by("pk").values_list("slug", flat=True)))
"""

# One session per client, as separate browsers would have; the password is checked once.
SESSIONS = """
import json
from django.contrib.auth import authenticate
from django.test import Client
user = authenticate(username=%r, password=%r)
assert user is not None, "the stack's admin login failed"
cookies = []
for _ in range(%d):
    c = Client()
    c.force_login(user)
    cookies.append(c.cookies["sessionid"].value)
print(json.dumps(cookies))
"""


def now_ms() -> float:
    return time.time() * 1000


# --- what the clients read out of a message -------------------------------------------


def live_point_time(text: str) -> int | None:
    """The time of the IT power point in a site update (`#live-points`), or None."""
    at = text.find('id="live-points"')
    if at < 0:
        return None
    start = text.find('data-points="', at) + len('data-points="')
    points = json.loads(html.unescape(text[start : text.find('"', start)]))
    it_kw = points.get("it_kw")
    return int(it_kw[0]) if it_kw else None


def echo_time(text: str) -> int | None:
    return json.loads(text)["t"]


# --- producers: each runs while one measurement connects, warms up and measures --------


async def stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True at once if ``stop`` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))
    except TimeoutError:
        return False
    return True


async def write_points(
    client: InfluxClient, slugs: list[str], jitter_s: float, sent: list, stop: asyncio.Event
) -> None:
    """One batch write of a `facility` point per site and second, stamped now. Each slot is
    offset by a random fraction of a pump tick: agents are not in phase with the pump."""
    loop, rng = asyncio.get_running_loop(), random.Random(11)
    slot = loop.time()
    while not await stopped(stop, slot + rng.uniform(0, jitter_s) - loop.time()):
        t = int(now_ms())
        points = []
        for slug in slugs:
            it_kw = rng.uniform(10, 20)
            fields = {"it_power_kw": round(it_kw, 3), "total_power_kw": round(it_kw * 1.15, 3)}
            points.append(Point("facility", {"site": slug}, fields, t * 1_000_000))
        try:
            await asyncio.to_thread(client.write, points)
            sent.extend((slug, t) for slug in slugs)
        except InfluxError as exc:
            print(f"  a write to InfluxDB failed: {exc}", file=sys.stderr)
        slot += 1.0


async def send_echoes(layer: RedisChannelLayer, groups: int, sent: list, stop: asyncio.Event) -> None:
    """What the pump does minus reading InfluxDB and rendering: a group_send per group and second."""
    loop = asyncio.get_running_loop()
    slot = loop.time()
    while not await stopped(stop, slot - loop.time()):
        for n in range(groups):
            t = int(now_ms())
            await layer.group_send(echo_group(n), {"type": "bench.echo", "text": json.dumps({"t": t})})
            sent.append((str(n), t))
        slot += 1.0


# --- one measurement --------------------------------------------------------------------


@dataclass
class Result:
    path: str
    clients: int
    latencies: list[float]
    delivered: float
    msgs_s: float
    bytes_msg: float
    site_p50: tuple[float, float]  # the lowest and highest median latency of one site
    queries_per_tick: float | None = None

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    def row(self) -> tuple:
        qpt = "-" if self.queries_per_tick is None else f"{self.queries_per_tick:.2f}"
        return (
            self.path,
            self.clients,
            f"{self.p(50):.0f}",
            f"{self.p(95):.0f}",
            f"{self.p(99):.0f}",
            f"{max(self.latencies, default=float('nan')):.0f}",
            f"{self.delivered:.1%}",
            f"{self.msgs_s:.0f}",
            f"{self.bytes_msg:,.0f}",
            f"{self.site_p50[0]:.0f}..{self.site_p50[1]:.0f}",
            qpt,
        )


@dataclass
class Clients:
    """N websocket clients; what they received, with their receive times."""

    received: list[tuple[float, int]] = field(default_factory=list)  # (received ms, bytes)
    arrivals: list[tuple[str, int, float]] = field(default_factory=list)  # (key, sent ms, received ms)
    members: Counter = field(default_factory=Counter)  # key -> clients listening to it

    async def read(self, ws: ClientConnection, key: str, extract: Callable[[str], int | None]) -> None:
        seen: set[int] = set()
        try:
            async for text in ws:
                at = now_ms()
                self.received.append((at, len(text)))
                sent = extract(text)
                if sent is not None and sent not in seen:
                    seen.add(sent)
                    self.arrivals.append((key, sent, at))
        except ConnectionClosed:
            pass


async def open_client(url: str, headers: dict, origin: str, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:  # see AT_ONCE
        return await connect(
            url,
            origin=origin,
            additional_headers=headers,
            proxy=None,  # 127.0.0.1 only, whatever the environment says
            compression=None,
            open_timeout=60,
            max_size=None,
        )


async def close_client(ws: ClientConnection, gate: asyncio.Semaphore) -> None:
    async with gate:
        await ws.close()


async def measure(
    path: str,
    urls: list[tuple[str, str]],  # (websocket URL, key of what it listens to) per client
    headers: list[dict],
    origin: str,
    extract: Callable[[str], int | None],
    produce: Callable[[list, asyncio.Event], Awaitable[None]],
    args: argparse.Namespace,
    query_count: Callable[[], int] | None = None,
) -> Result:
    sent: list[tuple[str, int]] = []  # (key, time in ms) of everything produced
    stop = asyncio.Event()
    producer = asyncio.create_task(produce(sent, stop))
    clients = Clients()
    gate = asyncio.Semaphore(AT_ONCE)
    sockets = await asyncio.gather(
        *(open_client(url, h, origin, gate) for (url, _), h in zip(urls, headers, strict=True))
    )
    readers = []
    for ws, (_, key) in zip(sockets, urls, strict=True):
        clients.members[key] += 1
        readers.append(asyncio.create_task(clients.read(ws, key, extract)))
    await asyncio.sleep(args.warmup)

    before = await asyncio.to_thread(query_count) if query_count else 0
    started, w0 = time.monotonic(), now_ms()
    await asyncio.sleep(args.seconds)
    w1, window_s = now_ms(), time.monotonic() - started
    queries = (await asyncio.to_thread(query_count) - before) if query_count else 0
    # Stop producing, so nothing is in flight when the clients leave, and let what was
    # produced in the window arrive.
    stop.set()
    await producer
    await asyncio.sleep(args.grace)
    await asyncio.gather(*(close_client(ws, gate) for ws in sockets))
    await asyncio.gather(*readers)

    latencies, by_key = [], {}
    for key, t, at in clients.arrivals:
        if w0 <= t < w1:
            latencies.append(at - t)
            by_key.setdefault(key, []).append(at - t)
    site_p50 = [median(v) for v in by_key.values()] or [float("nan")]
    expected = sum(clients.members[key] for key, t in sent if w0 <= t < w1)
    in_window = [size for at, size in clients.received if w0 <= at < w1]
    return Result(
        path,
        len(sockets),
        latencies,
        len(latencies) / expected if expected else float("nan"),
        len(in_window) / window_s,
        sum(in_window) / len(in_window) if in_window else float("nan"),
        (min(site_p50), max(site_p50)),
        # one of the two SHOW STATS is the bench's own; the pump ticks every tick_s
        None if query_count is None else (queries - 1) / (window_s / args.tick),
    )


# --- the run ----------------------------------------------------------------------------


def page_times(web_url: str, cookie: str, path: str, count: int) -> tuple[list[float], str]:
    """Milliseconds per authenticated GET, after two unmeasured ones; and what went wrong,
    if a GET did not answer 200 (reported, so the live figures are not lost)."""
    times = []
    with httpx.Client(base_url=web_url, cookies={"sessionid": cookie}, trust_env=False, timeout=30) as http:
        for i in range(count + 2):
            started = time.perf_counter()
            r = http.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if r.status_code != 200:
                return times, f"answered {r.status_code}"
            if i >= 2:
                times.append(elapsed)
    return times, ""


async def run(s: Stack, slugs: list[str], cookies: list[str], echo_url: str, args) -> list[Result]:
    web_ws = s.web_url.replace("http://", "ws://")
    echo_ws = echo_url.replace("http://", "ws://")
    stats = InfluxClient(url=s.influx_url, database=s.database)

    def query_count() -> int:
        return sum(
            row["queryReq"] for series in stats.select("SHOW STATS FOR 'httpd'") for row in series.rows()
        )

    influx = InfluxClient(url=s.influx_url, database=s.database, retention_policy="heatops")
    layer = RedisChannelLayer(hosts=[s.redis_url])
    results = []
    try:
        for n in args.clients:
            # heatops: each client its own session, on site i mod 20
            urls = [(f"{web_ws}/ws/sites/{slugs[i % len(slugs)]}/", slugs[i % len(slugs)]) for i in range(n)]
            headers = [{"Cookie": f"sessionid={cookies[i]}"} for i in range(n)]
            results.append(
                await measure(
                    "heatops",
                    urls,
                    headers,
                    s.web_url,
                    live_point_time,
                    lambda sent, stop: write_points(influx, slugs, args.tick, sent, stop),
                    args,
                    query_count,
                )
            )
            # the bare echo: client i in group i mod 20
            urls = [(f"{echo_ws}/ws/echo/{i % len(slugs)}/", str(i % len(slugs))) for i in range(n)]
            results.append(
                await measure(
                    "echo",
                    urls,
                    [{}] * n,
                    echo_url,
                    echo_time,
                    lambda sent, stop: send_echoes(layer, len(slugs), sent, stop),
                    args,
                )
            )
            print(f"  {n} clients measured", file=sys.stderr, flush=True)
    finally:
        await layer.close_pools()
        influx.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", default="1,10,100", help="the largest is the headline's")
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--warmup", type=float, default=5, help="seconds connected before measuring")
    parser.add_argument("--seconds", type=float, default=20, help="measurement window per run")
    parser.add_argument("--grace", type=float, default=2, help="seconds to wait for late arrivals")
    parser.add_argument("--tick", type=float, default=0.5, help="HEATOPS_PUMP_TICK_S")
    parser.add_argument("--page-gets", type=int, default=30)
    args = parser.parse_args()
    args.clients = [int(x) for x in args.clients.split(",")]

    slugs: list[str] = []

    def add_sites(s: Stack) -> None:  # before the pump starts, so it knows them from its first tick
        slugs.extend(s.django_shell(ADD_SITES % args.sites).split(","))

    with stack(pump=True, extra_env={"HEATOPS_PUMP_TICK_S": str(args.tick)}, before_start=add_sites) as s:
        user = s.env.get("HEATOPS_ADMIN_USER", "admin")
        cookies = json.loads(
            s.django_shell(SESSIONS % (user, s.env["HEATOPS_ADMIN_PASSWORD"], max(args.clients)))
        )
        echo_url = s.serve("bench.echo_asgi:application", "echo", ready_path="/")
        print(f"{len(slugs)} sites, a facility point per site per second; pump tick {args.tick} s")
        results = asyncio.run(run(s, slugs, cookies, echo_url, args))
        pages = {path: page_times(s.web_url, cookies[0], path, args.page_gets) for path in PAGES}

    print(
        f"\nlatency ms from the point's time to its arrival at a client; window {args.seconds:.0f} s "
        f"after {args.warmup:.0f} s warm-up per row; msgs_s across all clients"
    )
    print(
        table(
            [r.row() for r in results],
            (
                "path",
                "clients",
                "p50",
                "p95",
                "p99",
                "max",
                "delivered",
                "msgs_s",
                "bytes/msg",
                "p50_by_site",
                "queries/tick",
            ),
        )
    )
    if any(r.queries_per_tick is not None and r.queries_per_tick < 0.95 for r in results):
        print("queries/tick below 1: the pump fell behind its cadence, it does not catch up")
    print(f"\npage GETs ({args.page_gets} each, logged in, while the pump runs)")
    print(
        table(
            [
                (path, f"{median(t):.1f}" if t else "-", f"{percentile(t, 95):.1f}", error or "ok")
                for path, (t, error) in pages.items()
            ],
            ("page", "median_ms", "p95_ms", "status"),
        )
    )

    top = max(args.clients)
    live = next(r for r in results if r.path == "heatops" and r.clients == top)
    echo = next(r for r in results if r.path == "echo" and r.clients == top)
    qpt = {r.clients: r.queries_per_tick for r in results if r.path == "heatops"}
    low = min(args.clients)
    p99 = percentile(live.latencies, 99)
    print(
        f"\ntarget p99 ≤ {TARGET_P99_MS} ms at {top} clients: {p99:.0f} ms "
        f"({'met' if p99 <= TARGET_P99_MS else 'missed'})"
    )
    same = abs(qpt[top] - qpt[low]) < 0.1
    print(
        f"target queries per tick the same at {low} and {top} clients: {qpt[low]:.2f} and {qpt[top]:.2f} "
        f"({'met' if same else 'missed'})"
    )
    print(
        f"\nlive: p99_ms={p99:.0f} p50_ms={percentile(live.latencies, 50):.0f} clients={top} "
        f"echo_p99_ms={percentile(echo.latencies, 99):.0f} queries_per_tick={qpt[top]:.2f}"
    )


if __name__ == "__main__":
    main()
