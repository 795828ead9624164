"""The command line: ``python -m heatops.devservices up|down|status|postgres-url|balancer|check-web-ports``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from .balancer import web_balancer
from .base import Service, ServiceError, port_open
from .postgres import PostgresServer
from .stores import InfluxServer, RedisServer


def _port_from_url(url: str, default: int) -> int:
    return urlsplit(url).port or default


def demo_postgres(var: Path) -> PostgresServer:
    """The demo's own PostgreSQL (HEATOPS_DB=postgres), on HEATOPS_POSTGRES_PORT, data under
    var/postgres."""
    return PostgresServer(root=var / "postgres", port=int(os.environ.get("HEATOPS_POSTGRES_PORT", "5440")))


def demo_services(var: Path) -> list[Service]:
    """The demo's servers, on the ports of INFLUX_URL and REDIS_URL, data under var/; and
    PostgreSQL too when HEATOPS_DB=postgres."""
    influx_port = _port_from_url(os.environ.get("INFLUX_URL", "http://127.0.0.1:8086"), 8086)
    redis_port = _port_from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), 6379)
    rpc_port = int(os.environ.get("INFLUX_RPC_PORT", "8088"))
    services: list[Service] = [
        InfluxServer(root=var / "influxdb", port=influx_port, rpc_port=rpc_port),
        RedisServer(root=var / "redis", port=redis_port),
    ]
    if os.environ.get("HEATOPS_DB") == "postgres":
        services.append(demo_postgres(var))
    return services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heatops.devservices")
    parser.add_argument(
        "action", choices=["up", "down", "status", "postgres-url", "balancer", "check-web-ports"]
    )
    parser.add_argument("--var", default=os.environ.get("HEATOPS_VAR", "var"), type=Path)
    args = parser.parse_args(argv)
    if args.action == "balancer":  # the Procfile's balancer: haproxy in the foreground, in our place
        command = web_balancer(args.var.resolve()).command()
        os.execv(command[0], command)
    if args.action == "check-web-ports":
        balancer = web_balancer(args.var.resolve())
        for port in [balancer.port, *balancer.backends]:
            if port_open(port):
                print(
                    f"error: port {port} is taken by another process; heatops serves on HEATOPS_PORT "
                    f"and its web processes listen on the ports after it (see README, 'Configuration')",
                    file=sys.stderr,
                )
                return 1
        return 0
    if args.action == "postgres-url":  # the DATABASE_URL of the demo's own PostgreSQL
        print(demo_postgres(args.var.resolve()).url)
        return 0
    services = demo_services(args.var.resolve())
    try:
        for svc in services:
            if args.action == "up":
                started = svc.start()
                state = "started" if started else "already running"
                print(f"{svc.name}: {state} on port {svc.port} (data and log under {svc.root})")
                if isinstance(svc, PostgresServer):
                    svc.create_database(svc.database)
            elif args.action == "down":
                svc.stop()
                print(f"{svc.name}: stopped")
            else:
                pid = svc.running_pid()
                print(f"{svc.name}: " + (f"running, pid {pid}, port {svc.port}" if pid else "stopped"))
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
