"""End-to-end latency of the live dashboards, from a reading's time to its arrival at N
concurrent websocket clients, by the two ways readings reach heatops, beside a bare
Channels echo over the same Redis channel layer, in one run on the same machine.

    python -m bench.live [--clients 1000] [--sites 200] [--seconds 20] [--warmup 5]
                         [--webs 2] [--client-procs 3] [--agent-procs 2]

The whole product runs as deploy/run starts it (InfluxDB, Redis, ``--webs`` Daphne
processes, the telemetry pump, each its own process; heatops.devstack), with copies of the
demo sites added before the pump starts, so ``--sites`` sites are live. While each row
runs, every site sends a `facility` point once a second, stamped with the wall clock:

- ingest: each site's agent POSTs its point to /ingest/<site>/write with its own token,
  at its own fixed phase within the second (agents are not in phase with each other or
  with the pump); heatops pushes it to the pages once InfluxDB has stored it. The agents
  run in ``--agent-procs`` processes of their own, each a minimal kept-alive HTTP/1.1
  client (an agent gives up on an answer after 10 s and reconnects);
- direct: one batch for every site written straight into InfluxDB, each second offset by
  a random fraction of a pump tick; the pump's next read shows it.

Clients log in (a session each) and open /ws/sites/<slug>/, spread round-robin over the
sites and over the web processes; on each update they read the IT power point's time out
of `#live-points` and record now - time for points they have not seen yet. They run in
``--client-procs`` processes of their own, so the client is not the bottleneck. Only points
written inside the measurement window count; "delivered" is the share of (point, client)
pairs that arrived at all; p50_by_site is the lowest..highest median of one site.

The baseline is ``--webs`` Daphnes serving bench/echo_asgi.py: the same number of clients
join groups bench.echo.<n> the same round-robin way, and the bench group_sends {"t": now_ms}
to each of the ``--sites`` groups once a second through channels_redis, as the pump
publishes one update per site and second. Same client processes, same clock, same Redis.

queries_per_tick: InfluxDB's own count of /query requests (SHOW STATS, httpd queryReq)
over the window, less the bench's own one, divided by the ticks the pump would make in the
window at its cadence (window / HEATOPS_PUMP_TICK_S): nothing outside the pump marks a
tick, so they cannot be counted. It should be 1 whatever the number of viewers; below 1
means the pump fell behind its cadence (a late pump does not catch up), not that a tick
went without its query.

Also times the portfolio page and a site page (authenticated GETs). Prints its headline last:
    live: p99_ms=<ingest path> direct_p99_ms=<n> clients=<largest N> sites=<n> echo_p99_ms=<n> queries_per_tick=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import multiprocessing
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import httpx
from channels_redis.core import RedisChannelLayer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.errors import InfluxError
from apps.telemetry.influx.points import Point
from bench.echo_asgi import echo_group
from heatops.devstack import Stack, median, percentile, stack, table

TARGET_P99_MS = 250  # ingest path: from the POST to the socket
DIRECT_SLACK_MS = 100  # direct path: at most one pump tick more
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

# One ingest token per site, as each site's own agent has.
TOKENS = """
import json
from apps.ingest.services import ingest_token_issue
from apps.sites.models import Site
print(json.dumps({s.slug: ingest_token_issue(site=s, name="bench")[1] for s in Site.objects.filter(is_active=True)}))
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


POST_TIMEOUT_S = 10  # an agent gives up on an answer after this long, and reconnects


async def _post(stream: list, host: str, port: int, request: bytes) -> int:
    """One POST on a kept-alive HTTP/1.1 connection (opened, or reopened, as needed); the
    status. A minimal client: httpx's pool scans every connection per request, which at
    hundreds of agents in one process made the bench, not heatops, the bottleneck."""
    if not stream:
        stream.extend(await asyncio.open_connection(host, port))
    reader, writer = stream
    try:
        writer.write(request)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        if length:
            await reader.readexactly(length)
    except BaseException:
        writer.close()
        stream.clear()
        raise
    if close:
        writer.close()
        stream.clear()
    return status


async def _agents(conn: Connection, agents: list[tuple[str, str, str, float]], seed: int) -> None:
    """The agents of one agent process, each (site, ingest URL, token, phase in the second),
    until told to stop; then send back what was accepted, answer times and failures."""
    loop, rng = asyncio.get_running_loop(), random.Random(seed)
    stop = asyncio.Event()
    sent: list[tuple[str, int]] = []
    answer_ms: list[float] = []
    failures: Counter = Counter()

    async def agent(slug: str, url: str, token: str, phase: float) -> None:
        address, path = url.removeprefix("http://").split("/", 1)
        host, port = address.rsplit(":", 1)
        stream: list = []
        slot = loop.time() + phase
        while not await stopped(stop, slot - loop.time()):
            t = int(now_ms())
            it_kw = rng.uniform(10, 20)
            body = f"facility,site={slug} it_power_kw={it_kw:.3f},total_power_kw={it_kw * 1.15:.3f} {t}\n".encode()
            request = (
                f"POST /{path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Token {token}\r\n"
                f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            try:
                status = await asyncio.wait_for(_post(stream, host, int(port), request), POST_TIMEOUT_S)
                answer_ms.append(now_ms() - t)
                if status == 204:
                    sent.append((slug, t))
                else:
                    failures[f"HTTP {status}"] += 1
            except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
                failures[type(exc).__name__] += 1
            slot += 1.0
        if stream:
            stream[1].close()

    tasks = [asyncio.create_task(agent(*a)) for a in agents]
    conn.send("started")
    await asyncio.to_thread(conn.recv)
    stop.set()
    await asyncio.gather(*tasks)
    conn.send((sent, answer_ms, dict(failures)))


def agent_process(conn: Connection, agents: list, seed: int) -> None:
    try:
        asyncio.run(_agents(conn, agents, seed))
    except Exception as exc:
        conn.send(f"agent process failed: {exc!r}")


async def post_points(
    web_urls: list[str],
    tokens: dict[str, str],
    slugs: list[str],
    sent: list,
    stop: asyncio.Event,
    answer_ms: list[float],
    procs: int,
) -> None:
    """Every site's agent POSTs a `facility` point a second to the ingest endpoint, stamped
    now, at the site's own fixed phase within the second, to the web processes in turn.
    The agents run in ``procs`` processes of their own, so the bench is not the bottleneck."""
    rng = random.Random(7)
    agents = [
        (slug, f"{web_urls[i % len(web_urls)]}/ingest/{slug}/write?precision=ms", tokens[slug], rng.random())
        for i, slug in enumerate(slugs)
    ]
    ctx = multiprocessing.get_context("spawn")
    pipes = []
    for n in range(procs):
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=agent_process, args=(theirs, agents[n::procs], n), daemon=True)
        proc.start()
        pipes.append((proc, ours))
    failures: Counter = Counter()
    try:
        for _, conn in pipes:
            said = await asyncio.to_thread(conn.recv)
            if said != "started":
                raise RuntimeError(said)
        await stop.wait()
        for _, conn in pipes:
            conn.send("stop")
        for proc, conn in pipes:
            said = await asyncio.to_thread(conn.recv)
            if isinstance(said, str):
                raise RuntimeError(said)
            accepted, answers, failed = said
            sent.extend(accepted)
            answer_ms.extend(answers)
            failures.update(failed)
            proc.join(timeout=10)
    finally:
        for proc, _ in pipes:
            if proc.is_alive():
                proc.terminate()
    if failures:
        print(f"  ingest POSTs that failed: {dict(failures)}", file=sys.stderr)


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
    cpu: dict[str, float] = field(default_factory=dict)  # cores busy per process kind, in the window
    note: str = ""

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
            " ".join(f"{name}={share:.2f}" for name, share in self.cpu.items() if share >= 0.005),
        )


@dataclass
class Clients:
    """Websocket clients of one client process; what they received, with their receive times."""

    received: list[tuple[float, int]] = field(default_factory=list)  # (received ms, bytes)
    arrivals: list[tuple[str, int, float]] = field(default_factory=list)  # (key, sent ms, received ms)

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
    """Connect, retrying a few times as the page's script does: a busy Daphne drops a
    handshake its application has not accepted within its websocket_connect_timeout (5 s)."""
    for attempt in range(8):
        async with gate:  # see AT_ONCE
            try:
                return await connect(
                    url,
                    origin=origin,
                    additional_headers=headers,
                    proxy=None,  # 127.0.0.1 only, whatever the environment says
                    compression=None,
                    open_timeout=120,
                    close_timeout=2,
                    max_size=None,
                )
            except (InvalidHandshake, OSError, TimeoutError):
                if attempt == 7:
                    raise
        await asyncio.sleep(min(0.5 * 2**attempt, 5))
    raise AssertionError("unreachable")


EXTRACT = {"live": live_point_time, "echo": echo_time}


def client_process(
    conn: Connection, urls: list[tuple[str, str]], headers: list[dict], origin: str, kind: str, at_once: int
):
    """One client process: open its share of the sockets, say "open", read until told to
    close, then send back what arrived (or, if it fails, why)."""
    try:
        asyncio.run(_clients(conn, urls, headers, origin, EXTRACT[kind], at_once))
    except Exception as exc:
        conn.send(f"client process failed: {exc!r}")


async def _clients(conn: Connection, urls, headers, origin, extract, at_once: int) -> None:
    clients, gate = Clients(), asyncio.Semaphore(at_once)
    sockets = await asyncio.gather(
        *(open_client(url, h, origin, gate) for (url, _), h in zip(urls, headers, strict=True))
    )
    readers = [
        asyncio.create_task(clients.read(ws, key, extract))
        for ws, (_, key) in zip(sockets, urls, strict=True)
    ]
    conn.send("open")
    await asyncio.to_thread(conn.recv)
    await asyncio.gather(*(ws.close() for ws in sockets))  # close_timeout bounds each
    await asyncio.gather(*readers)
    conn.send((clients.received, clients.arrivals))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    """One producer measured on an open set of clients."""

    path: str
    produce: Callable[[list, asyncio.Event], Awaitable[None]]
    query_count: Callable[[], int] | None = None
    note: Callable[[], str] | None = None


async def measure(
    rows: list[Row],
    urls: list[tuple[str, str]],  # (websocket URL, key of what it listens to) per client
    headers: list[dict],
    origin: str,
    kind: str,
    args: argparse.Namespace,
    pids: dict[str, list[int]],
) -> list[Result]:
    """Connect the clients once (in their processes), then run each row's producer in
    turn on them: warm-up, measurement window, grace for late arrivals."""
    ctx = multiprocessing.get_context("spawn")
    procs = []
    for i in range(args.client_procs):
        share = slice(i, None, args.client_procs)
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(
            target=client_process,
            args=(theirs, urls[share], headers[share], origin, kind, max(1, AT_ONCE // args.client_procs)),
            daemon=True,
        )
        proc.start()
        procs.append((proc, ours))
    for _, conn in procs:
        said = await asyncio.to_thread(conn.recv)
        if said != "open":
            raise RuntimeError(said)
    members = Counter(key for _, key in urls)
    pids = {**pids, "clients": [proc.pid for proc, _ in procs], "bench": [os.getpid()]}
    windows = []
    for row in rows:
        # produce once every client is connected: handshakes are not what is measured
        sent: list[tuple[str, int]] = []  # (key, time in ms) of everything produced
        stop = asyncio.Event()
        producer = asyncio.create_task(row.produce(sent, stop))
        await asyncio.sleep(args.warmup)
        cpu0 = {name: sum(cpu_seconds(pid) for pid in ps) for name, ps in pids.items()}
        before = await asyncio.to_thread(row.query_count) if row.query_count else 0
        started, w0 = time.monotonic(), now_ms()
        await asyncio.sleep(args.seconds)
        w1, window_s = now_ms(), time.monotonic() - started
        queries = (await asyncio.to_thread(row.query_count) - before) if row.query_count else 0
        cpu = {
            name: (sum(cpu_seconds(pid) for pid in ps) - cpu0[name]) / window_s for name, ps in pids.items()
        }
        # stop producing and let what was produced in the window arrive
        stop.set()
        await producer
        await asyncio.sleep(args.grace)
        windows.append((row, sent, w0, w1, window_s, queries, cpu))
        print(f"  {len(urls)} clients, {row.path} measured", file=sys.stderr, flush=True)
    received, arrivals = [], []
    for _, conn in procs:
        conn.send("close")
    for proc, conn in procs:
        got, came = await asyncio.to_thread(conn.recv)
        received += got
        arrivals += came
        proc.join(timeout=30)

    results = []
    for row, sent, w0, w1, window_s, queries, cpu in windows:
        latencies, by_key = [], {}
        for key, t, at in arrivals:
            if w0 <= t < w1:
                latencies.append(at - t)
                by_key.setdefault(key, []).append(at - t)
        site_p50 = [median(v) for v in by_key.values()] or [float("nan")]
        expected = sum(members[key] for key, t in sent if w0 <= t < w1)
        in_window = [size for at, size in received if w0 <= at < w1]
        results.append(
            Result(
                row.path,
                len(urls),
                latencies,
                len(latencies) / expected if expected else float("nan"),
                len(in_window) / window_s,
                sum(in_window) / len(in_window) if in_window else float("nan"),
                (min(site_p50), max(site_p50)),
                # one of the two SHOW STATS is the bench's own; the pump ticks every tick_s
                None if row.query_count is None else (queries - 1) / (window_s / args.tick),
                cpu,
                row.note() if row.note else "",
            )
        )
    return results


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


async def run(
    s: Stack,
    slugs: list[str],
    cookies: list[str],
    tokens: dict,
    webs: list[str],
    echoes: list[str],
    pids,
    args,
) -> list[Result]:
    stats = InfluxClient(url=s.influx_url, database=s.database)

    def query_count() -> int:
        return sum(
            row["queryReq"] for series in stats.select("SHOW STATS FOR 'httpd'") for row in series.rows()
        )

    influx = InfluxClient(url=s.influx_url, database=s.database, retention_policy="heatops")
    layer = RedisChannelLayer(hosts=[s.redis_url])
    answer_ms: list[float] = []  # how long each ingest POST took to be answered
    producers = {
        "ingest": lambda sent, stop: post_points(
            webs, tokens, slugs, sent, stop, answer_ms, args.agent_procs
        ),
        "direct": lambda sent, stop: write_points(influx, slugs, args.tick, sent, stop),
    }
    results = []
    try:
        for n in args.clients:
            # heatops: each client its own session, on site i mod N, web process i mod webs
            def ws(i: int) -> str:
                return webs[i % len(webs)].replace("http://", "ws://")

            urls = [(f"{ws(i)}/ws/sites/{slugs[i % len(slugs)]}/", slugs[i % len(slugs)]) for i in range(n)]
            headers = [{"Cookie": f"sessionid={cookies[i]}"} for i in range(n)]

            def answers() -> str:
                if not answer_ms:
                    return ""
                note = (
                    f"ingest POSTs answered in p50 {percentile(answer_ms, 50):.0f} ms, "
                    f"p99 {percentile(answer_ms, 99):.0f} ms ({len(answer_ms)} POSTs)"
                )
                answer_ms.clear()
                return note

            rows = [Row(path, producers[path], query_count, answers) for path in args.paths]
            results += await measure(rows, urls, headers, webs[0], "live", args, pids)
            # the bare echo: client i in group i mod N
            urls = [
                (
                    f"{echoes[i % len(echoes)].replace('http://', 'ws://')}/ws/echo/{i % len(slugs)}/",
                    str(i % len(slugs)),
                )
                for i in range(n)
            ]
            echo = Row("echo", lambda sent, stop: send_echoes(layer, len(slugs), sent, stop))
            results += await measure(
                [echo], urls, [{}] * n, echoes[0], "echo", args, {"web": pids["echo"], "redis": pids["redis"]}
            )
    finally:
        await layer.close_pools()
        influx.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", default="1000", help="comma-separated; the largest is the headline's")
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--paths", default="ingest,direct", help="ingest, direct or both")
    parser.add_argument("--webs", type=int, default=2, help="Daphne processes, for heatops and for the echo")
    parser.add_argument("--client-procs", type=int, default=3, help="processes the clients run in")
    parser.add_argument("--agent-procs", type=int, default=2, help="processes the ingest agents run in")
    parser.add_argument("--warmup", type=float, default=5, help="seconds connected before measuring")
    parser.add_argument("--seconds", type=float, default=20, help="measurement window per run")
    parser.add_argument("--grace", type=float, default=2, help="seconds to wait for late arrivals")
    parser.add_argument("--tick", type=float, default=0.5, help="HEATOPS_PUMP_TICK_S")
    parser.add_argument("--page-gets", type=int, default=30)
    args = parser.parse_args()
    # a SIGTERM (timeout, Ctrl-C in a wrapper) still stops every server the stack started
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.clients = [int(x) for x in args.clients.split(",")]
    args.paths = args.paths.split(",")

    slugs: list[str] = []

    def add_sites(s: Stack) -> None:  # before the pump starts, so it knows them from its first tick
        slugs.extend(s.django_shell(ADD_SITES % args.sites).split(","))

    started = time.monotonic()
    with stack(pump=True, extra_env={"HEATOPS_PUMP_TICK_S": str(args.tick)}, before_start=add_sites) as s:
        user = s.env.get("HEATOPS_ADMIN_USER", "admin")
        cookies = json.loads(
            s.django_shell(SESSIONS % (user, s.env["HEATOPS_ADMIN_PASSWORD"], max(args.clients)))
        )
        tokens = json.loads(s.django_shell(TOKENS))
        webs = [s.web_url] + [
            s.serve("heatops.asgi:application", f"daphne-{i}", ready_path="/ingest/pool/ping")
            for i in range(1, args.webs)
        ]
        echoes = [
            s.serve("bench.echo_asgi:application", f"echo-{i}", ready_path="/") for i in range(args.webs)
        ]
        pids = {
            "pump": [s.procs["pump"].pid],
            "web": [p.pid for name, p in s.procs.items() if name.startswith("daphne")],
            "echo": [p.pid for name, p in s.procs.items() if name.startswith("echo")],
            "redis": [s.redis.proc.pid] if s.redis else [],
            "influx": [s.influx.proc.pid] if s.influx else [],
        }
        print(
            f"{len(slugs)} sites, a facility point per site per second; pump tick {args.tick} s; "
            f"{args.webs} web processes; clients in {args.client_procs} processes; "
            f"{os.cpu_count()} cores (shared); set up in {time.monotonic() - started:.0f} s"
        )
        results = asyncio.run(run(s, slugs, cookies, tokens, webs, echoes, pids, args))
        pages = {path: page_times(s.web_url, cookies[0], path, args.page_gets) for path in PAGES}

    print(
        f"\nlatency ms from the point's time to its arrival at a client; window {args.seconds:.0f} s "
        f"after {args.warmup:.0f} s warm-up per row; msgs_s across all clients; "
        "cpu: cores busy per process kind in the window"
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
                "cpu",
            ),
        )
    )
    for r in results:
        if r.note:
            print(f"{r.path}, {r.clients} clients: {r.note}")
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

    def p99(path: str) -> float:
        row = next((r for r in results if r.path == path and r.clients == top), None)
        return float("nan") if row is None else row.p(99)

    main_path = args.paths[0]
    qpt = next(r.queries_per_tick for r in results if r.path == main_path and r.clients == top)
    direct_target = args.tick * 1000 + DIRECT_SLACK_MS
    for path, target in (("ingest", TARGET_P99_MS), ("direct", direct_target)):
        if path in args.paths:
            print(
                f"target p99 <= {target:.0f} ms on the {path} path at {top} clients: {p99(path):.0f} ms "
                f"({'met' if p99(path) <= target else 'missed'})"
            )
    print(
        f"\nlive: p99_ms={p99('ingest'):.0f} direct_p99_ms={p99('direct'):.0f} clients={top} "
        f"sites={len(slugs)} echo_p99_ms={p99('echo'):.0f} queries_per_tick={qpt:.2f}"
    )


if __name__ == "__main__":
    main()
