import os
import signal

from django.core.management.base import BaseCommand, CommandError

from apps.simulator.backfill import backfill_window, simulation_backfill
from apps.simulator.choices import FaultKind
from apps.simulator.exceptions import SimulatorError
from apps.simulator.live import live_settings_check, simulation_run_live
from apps.simulator.selectors import fault_list, simulated_site_specs, telemetry_present
from apps.simulator.services import fault_clear, fault_start
from apps.sites.models import Site
from apps.telemetry.influx.errors import InfluxError

KINDS = ", ".join(FaultKind.values)


class Command(BaseCommand):
    help = (
        "Simulate the active sites' telemetry into InfluxDB: live (default), as history "
        "(--backfill-days), and inject or clear faults in a running simulation (--fault, --clear-fault)."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--backfill-days",
            type=float,
            metavar="N",
            help="write N days of history ending now, as fast as InfluxDB takes it, then exit",
        )
        mode.add_argument("--fault", metavar="KIND", help=f"inject a fault at --site ({KINDS})")
        mode.add_argument("--clear-fault", metavar="KIND", help="clear an active fault at --site")
        mode.add_argument(
            "--list-faults", action="store_true", help="show active and recently cleared faults"
        )
        parser.add_argument("--site", metavar="SLUG", help="the site a fault is injected into or cleared at")
        parser.add_argument(
            "--sites", metavar="SLUG,SLUG", help="simulate only these sites (default: every active site)"
        )
        parser.add_argument(
            "--interval", type=float, default=5.0, help="live: seconds between ticks, 1 to 10 (default 5)"
        )
        parser.add_argument(
            "--speed",
            type=float,
            default=1.0,
            help="live: run the plant's dynamics this many times faster than the clock (default 1)",
        )
        parser.add_argument(
            "--step", type=float, default=10.0, help="backfill: seconds between points (default 10)"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="backfill: do nothing if InfluxDB already has telemetry for these sites (for start-up scripts)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="backfill: processes to share the sites among (default: one per core)",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed; the same seed gives the same run"
        )
        parser.add_argument(
            "--ticks", type=int, help="live: stop after this many ticks (default: run until Ctrl-C)"
        )

    def handle(self, *args, **options):
        try:
            if options["list_faults"]:
                self._list_faults(options["site"])
            elif options["fault"] or options["clear_fault"]:
                self._fault(options)
            elif options["backfill_days"] is not None:
                self._backfill(options)
            else:
                self._live(options)
        except SimulatorError as exc:
            raise CommandError(str(exc)) from exc
        except InfluxError as exc:
            raise CommandError(f"InfluxDB: {exc}") from exc

    # faults ---------------------------------------------------------------------------------

    def _site(self, slug: str | None) -> Site:
        if not slug:
            raise CommandError("name the site with --site, for example --site pool")
        site = Site.objects.filter(slug=slug).first()
        if site is None:
            known = ", ".join(Site.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"no site '{slug}' (sites: {known})")
        return site

    def _fault(self, options) -> None:
        value = options["fault"] or options["clear_fault"]
        try:
            kind = FaultKind(value)
        except ValueError:
            raise CommandError(f"unknown fault '{value}'; choose one of {KINDS}") from None
        site = self._site(options["site"])
        if options["fault"]:
            fault = fault_start(site=site, kind=kind)
            self.stdout.write(
                f"{kind.value} injected at {site.slug} ({fault.started_at:%H:%M:%S} UTC); "
                "a running `manage.py simulate` picks it up on its next tick"
            )
        else:
            fault_clear(site=site, kind=kind)
            self.stdout.write(
                f"{kind.value} cleared at {site.slug}; the plant recovers over the next minutes"
            )

    def _list_faults(self, slug: str | None) -> None:
        active, cleared = fault_list(site=self._site(slug) if slug else None)
        if not active:
            self.stdout.write("no active faults")
        for fault in active:
            self.stdout.write(
                f"active   {fault.site.slug:<12} {fault.kind:<17} since {fault.started_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        for fault in cleared:
            self.stdout.write(
                f"cleared  {fault.site.slug:<12} {fault.kind:<17} {fault.started_at:%Y-%m-%d %H:%M:%S}"
                f" to {fault.cleared_at:%Y-%m-%d %H:%M:%S} UTC"
            )

    # running --------------------------------------------------------------------------------

    def _specs(self, options):
        slugs = [s.strip() for s in (options["sites"] or "").split(",") if s.strip()]
        return simulated_site_specs(slugs=slugs or None)

    def _backfill(self, options) -> None:
        days, step = options["backfill_days"], options["step"]
        if not 0 < days <= 400:
            raise CommandError("--backfill-days must be above 0 and at most 400 (the retention)")
        specs = self._specs(options)
        slugs = [spec.slug for spec in specs]
        start, end = backfill_window(days=days, step=step)
        present = telemetry_present(slugs=slugs, lookback=f"{int(days) + 1}d")
        if present and options["if_empty"]:
            self.stdout.write(f"backfill skipped: {', '.join(sorted(present))} already has telemetry")
            return
        if present:
            self.stderr.write(
                f"note: {', '.join(sorted(present))} already has telemetry in this window; "
                "the backfill writes alongside it (registers start from zero at the window's start)"
            )
        self.stdout.write(
            f"backfill: {days:g} days of {', '.join(slugs)} at {step:g} s steps, "
            f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
        )
        result = simulation_backfill(
            specs=specs,
            start=start,
            end=end,
            step=step,
            seed=options["seed"],
            workers=options["workers"],
            report=self.stdout.write,
        )
        rate = result.points / result.seconds if result.seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"backfill done: {result.points:,} points in {result.seconds:.1f} s ({rate:,.0f} points/s, "
                f"{result.workers} worker{'s' if result.workers > 1 else ''}); "
                "`manage.py simulate` continues from here"
            )
        )

    def _live(self, options) -> None:
        interval, speed = options["interval"], options["speed"]
        live_settings_check(interval=interval, speed=speed)
        specs = self._specs(options)
        self.stdout.write(
            f"simulating {', '.join(s.slug for s in specs)} every {interval:g} s"
            f"{f' at {speed:g}x speed' if speed != 1 else ''} (seed {options['seed']}); Ctrl-C stops"
        )
        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _interrupt)  # honcho and systemd stop with SIGTERM
        try:
            simulation_run_live(
                specs=specs,
                interval=interval,
                speed=speed,
                seed=options["seed"],
                ticks=options["ticks"],
                report=self.stdout.write,
            )
        except KeyboardInterrupt:
            self.stdout.write("simulator stopped")
        finally:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
