"""The report's figures from what compute.collect() gathered: energies, ratios (each over
the time all its inputs cover), money, carbon, SLA, availability, per period, per local day
and per local hour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from . import conf
from .jobs import HOUR_MS, Job, Source

RATIOS = {  # ratio -> (numerator's inputs with their signs, denominator's input)
    "heat_recovery_ratio": ((("heat", 1),), "it"),
    "erf": ((("heat", 1),), "total"),
    "pue": ((("total", 1),), "it"),
    "ere": ((("total", 1), ("heat", -1)), "it"),
}


@dataclass
class HourFigures:
    t: int
    length_s: float
    it_kwh: float = 0.0
    it_cov: float = 0.0
    tot_kwh: float = 0.0
    tot_cov: float = 0.0
    up: float = 0.0  # share of the hour compute was up: received samples above the threshold x coverage
    heat_power_kwh: float = 0.0
    heat_power_cov: float = 0.0
    heat_power_clean: bool = False
    register_kwh: float = 0.0
    register_cov: float = 0.0
    register_full: bool = False
    pump_run_h: float = 0.0
    pump_cov: float = 0.0
    sla: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ratios: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # (numerator, denominator, s)


def _common(
    job: Job, t: int, parts: dict[str, list[Source]], hourly: dict[str, tuple[float, float]]
) -> tuple[dict[str, float], float]:
    """Each input's amount over the time in hour ``t`` that every input covers, and that
    time (s): per bucket where the hour was read per bucket, else for the whole hour; within
    a bucket or hour an input's amount is taken as even over the time it covers. ``hourly``:
    each source's (amount, covered s) in the hour."""
    members = [src for srcs in parts.values() for src in srcs]
    if any(job.empty(src, t) for src in members):
        return dict.fromkeys(parts, 0.0), 0.0
    length = job.length_s(t)
    if not any(t in job.fine_hours.get(src.name, ()) for src in members):  # whole hours
        covered = {
            part: (sum(hourly[src.name][0] for src in srcs), min(hourly[src.name][1] for src in srcs))
            for part, srcs in parts.items()
        }
        common = min(length, *(c for _a, c in covered.values()))
        if common <= 0:
            return dict.fromkeys(parts, 0.0), 0.0
        return {part: amount * common / cov for part, (amount, cov) in covered.items()}, common
    size = job.fine_bucket_s
    grid = [(b, min(size, (job.end_ms - b) / 1000)) for b in range(t, t + int(length * 1000), size * 1000)]
    slots: dict[str, dict[int, list[float]]] = {}  # source -> bucket -> [amount, covered s]
    for src in members:
        cells = job.cells(src, t)
        if t in job.fine_hours.get(src.name, ()):
            by_slot = {b: [amount, covered] for b, amount, covered in cells}
        else:  # a whole-hour value beside inputs read per bucket: even over the hour
            _b, amount, covered = cells[0]
            by_slot = {b: [amount * span / length, covered * span / length] for b, span in grid}
        if src.kind == "register":  # bracketed time, whether or not an increase ended there
            for b, span in grid:
                by_slot.setdefault(b, [0.0, 0.0])[1] = job.bracketed_ms(src, b, b + int(span * 1000)) / 1000
        slots[src.name] = by_slot
    totals, common_s = dict.fromkeys(parts, 0.0), 0.0
    for b, span in grid:
        covered = {}
        for part, srcs in parts.items():
            cells = [slots[src.name].get(b, (0.0, 0.0)) for src in srcs]
            covered[part] = (sum(c[0] for c in cells), min(c[1] for c in cells))
        common = min(span, *(c for _a, c in covered.values()))
        if common <= 0:
            continue
        common_s += common
        for part, (amount, cov) in covered.items():
            totals[part] += amount * common / cov
    return totals, common_s


def hour_figures(job: Job) -> list[HourFigures]:
    """Each local hour's figures (computed once per job: the page asks for them twice)."""
    if job._hour_figures is None:
        job._hour_figures = _hour_figures(job)
    return job._hour_figures


def _hour_figures(job: Job) -> list[HourFigures]:
    sources = job.sources()
    inputs = job.ratio_inputs()
    it, tot = sources.get("it"), sources.get("total")
    registers = [s for s in sources.values() if s.kind == "register"]
    power_meters = [s for s in sources.values() if s.kind == "power" and s.key.startswith("meter:")]
    pumps = [s for s in sources.values() if s.kind == "state"]
    members = [src for srcs in inputs.values() for src in srcs]
    ratio_parts = {ratio: {*(p for p, _ in num), den} for ratio, (num, den) in RATIOS.items()}
    ratios = [(r, spec) for r, spec in RATIOS.items() if all(inputs[part] for part in ratio_parts[r])]
    out = []
    for t in job.hours:
        length = job.length_s(t)
        h = HourFigures(t=t, length_s=length, sla=tuple(job.sla.get(t, (0.0, 0.0, 0.0))))
        hourly = {}  # source -> (amount, covered s) this hour
        for name, src in sources.items():
            cells = job.cells(src, t)
            hourly[name] = (sum(c[1] for c in cells), min(length, sum(c[2] for c in cells)))
        if it:
            h.it_kwh, covered = hourly["it"]
            h.it_cov = covered / length
            n = job.count("facility", t)
            h.up = job.count("facility", t, "up_n") / n * h.it_cov if n else 0.0
        if tot:
            h.tot_kwh, covered = hourly["total"]
            h.tot_cov = covered / length
        if power_meters:
            h.heat_power_kwh = sum(hourly[s.name][0] for s in power_meters)
            h.heat_power_cov = min(hourly[s.name][1] for s in power_meters) / length
            h.heat_power_clean = not any(t in job.unclean(s) for s in power_meters)
        if registers:
            h.register_kwh = sum(hourly[s.name][0] for s in registers)
            h.register_cov = min(hourly[s.name][1] for s in registers) / length
            h.register_full = not any(
                t in job.unclean(s) or not job.clean(s.key, s.count, t - HOUR_MS) for s in registers
            )
        if pumps:
            covs = []
            for s in pumps:
                covered = hourly[s.name][1]
                covs.append(covered / length)
                n = job.count(s.key, t)
                if n:
                    h.pump_run_h += job.count(s.key, t, "run_n") / n * covered / 3600
            h.pump_cov = min(covs)
        whole = not any(t in job.fine_hours.get(src.name, ()) for src in members)
        if whole:  # every input whole this hour: its amount and covered time (0 if it is a gap)
            per_part = {
                part: (0.0, 0.0)
                if any(job.empty(src, t) for src in srcs)
                else (sum(hourly[src.name][0] for src in srcs), min(hourly[src.name][1] for src in srcs))
                for part, srcs in inputs.items()
                if srcs
            }
        for ratio, (numerator, denominator) in ratios:
            if whole:
                common = min(length, *(per_part[part][1] for part in ratio_parts[ratio]))
                totals = {
                    part: per_part[part][0] * common / per_part[part][1] if common > 0 else 0.0
                    for part in ratio_parts[ratio]
                }
                common = max(common, 0.0)
            else:
                totals, common = _common(job, t, {part: inputs[part] for part in ratio_parts[ratio]}, hourly)
            top = sum(sign * totals[part] for part, sign in numerator)
            h.ratios[ratio] = (top, totals[denominator], common)
        out.append(h)
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def figures(job: Job) -> dict:
    """The report's figures for one site and period, with each one's coverage."""
    site, period = job.site, job.period
    hours = hour_figures(job)
    seconds = sum(h.length_s for h in hours) or 1.0
    tolerance = conf.number("HEATOPS_REPORT_METER_TOLERANCE")

    def share(attr: str) -> float:
        return sum(getattr(h, attr) * h.length_s for h in hours) / seconds

    it_cov, tot_cov = share("it_cov"), share("tot_cov")
    hp_cov, reg_cov = share("heat_power_cov"), share("register_cov")
    it_kwh = sum(h.it_kwh for h in hours) if it_cov else None
    total_kwh = sum(h.tot_kwh for h in hours) if tot_cov else None
    heat_power_kwh = sum(h.heat_power_kwh for h in hours) if hp_cov else None
    register_kwh = sum(h.register_kwh for h in hours) if reg_cov else None

    if register_kwh is not None:
        heat, heat_source, heat_cov = register_kwh, "register", reg_cov
    elif heat_power_kwh is not None:
        heat, heat_source, heat_cov = heat_power_kwh, "power", hp_cov
    else:
        heat, heat_source, heat_cov = None, "", 0.0

    # the register against the power integral, over hours both cover completely
    check_reg = check_pow = 0.0
    for h in hours:
        if h.register_full and h.heat_power_clean:
            check_reg += h.register_kwh
            check_pow += h.heat_power_kwh
    check_diff = (check_reg - check_pow) / check_pow if check_pow > 0 else None

    # a period without any data at all has no figures, not even its contract's fixed part
    has_data = any(
        c > 0 for c in (it_cov, tot_cov, hp_cov, reg_cov, share("pump_cov"), sum(h.sla[2] for h in hours))
    )
    efficiency = site.displaced_efficiency or 0
    avoided_fuel = heat / efficiency if heat is not None and efficiency > 0 else None
    # the contract's monthly terms over the time elapsed (all of it, once the period is over)
    capacity_charge = (
        float(site.capacity_charge_per_kw_month) * site.contracted_capacity_kw * period.months_elapsed
        if has_data
        else None
    )
    energy_charge = float(site.energy_charge_per_kwh) * heat if heat is not None else None
    min_heat = site.min_monthly_heat_kwh * period.months_elapsed
    called, inband, joint = (sum(h.sla[i] for h in hours) for i in range(3))
    up = sum(h.up * h.length_s for h in hours)
    it_seconds = sum(h.it_cov * h.length_s for h in hours)
    pumps = job.series("pump:")
    ratios, energies = {}, {}
    for ratio in RATIOS:
        parts = [h.ratios[ratio] for h in hours if ratio in h.ratios]
        top, bottom = sum(p[0] for p in parts), sum(p[1] for p in parts)
        common = sum(p[2] for p in parts) / seconds
        ratios[ratio] = _ratio(top, bottom) if parts and common else None
        ratios[f"{ratio.removesuffix('_ratio')}_coverage"] = common
        energies[ratio] = [top, bottom] if parts and common else None
    ratios["ratios_coverage"] = (
        ratios["ere_coverage"] if energies["ere"] else ratios["heat_recovery_coverage"]
    )

    return {
        "site": site.slug,
        "site_name": site.name,
        "period": period.label,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "timezone": period.tz,
        "hours": round(period.hours, 3),
        "in_progress": period.in_progress,
        "until": period.stop_utc.isoformat(),
        "hours_elapsed": round(period.elapsed_seconds / 3600, 3),
        "has_data": has_data,
        "currency": site.currency,
        "it_energy_kwh": it_kwh,
        "it_energy_coverage": it_cov,
        "total_energy_kwh": total_kwh,
        "total_energy_coverage": tot_cov,
        "heat_delivered_kwh": heat,
        "heat_source": heat_source,
        "heat_coverage": heat_cov,
        "heat_power_integral_kwh": heat_power_kwh,
        "heat_power_coverage": hp_cov,
        "meter_check_diff": check_diff,
        "meter_check_flag": check_diff is not None and abs(check_diff) > tolerance,
        "meter_resets": job.resets,
        **ratios,  # each over the time all its inputs cover, with that time's share
        "ratio_energies": energies,  # numerator and denominator of each (portfolio totals)
        "avoided_fuel_kwh": avoided_fuel,
        "avoided_cost": avoided_fuel * float(site.fuel_price_per_kwh) if avoided_fuel is not None else None,
        "avoided_emissions_kg": avoided_fuel * site.emission_factor_kg_per_kwh
        if avoided_fuel is not None
        else None,
        "revenue_capacity": capacity_charge,
        "revenue_energy": energy_charge,
        "revenue_total": capacity_charge + (energy_charge or 0.0) if has_data else None,
        "sla_compliance": _ratio(inband, called),
        "sla_hours_called": called / 3600,
        "sla_hours_in_band": inband / 3600,
        "sla_coverage": joint / seconds,
        "sla_source": job.sla_source,
        "min_heat_kwh": min_heat,
        "min_heat_met": (heat >= min_heat) if heat is not None else None,
        "min_heat_shortfall_kwh": max(0.0, min_heat - heat) if heat is not None else None,
        "availability": up / it_seconds if it_seconds else None,
        "availability_coverage": it_cov,
        "pump_runtime_h": sum(h.pump_run_h for h in hours) if pumps else None,
        "pump_coverage": share("pump_cov"),
    }


def daily(job: Job) -> list[dict]:
    """Per local day: energies, ERF and coverage (for the charts)."""
    days: dict[date, dict] = {}
    hours = hour_figures(job)
    use_register = any(h.register_cov for h in hours)
    for h in hours:
        day = days.setdefault(
            job.period.local(h.t).date(),
            {
                "s": 0.0,
                "it": 0.0,
                "it_c": 0.0,
                "tot": 0.0,
                "tot_c": 0.0,
                "heat": 0.0,
                "heat_c": 0.0,
                "erf": [0.0, 0.0],
            },
        )
        if "erf" in h.ratios:  # over the time both cover, as the month's
            day["erf"][0] += h.ratios["erf"][0]
            day["erf"][1] += h.ratios["erf"][1]
        day["s"] += h.length_s
        day["it"] += h.it_kwh
        day["it_c"] += h.it_cov * h.length_s
        day["tot"] += h.tot_kwh
        day["tot_c"] += h.tot_cov * h.length_s
        day["heat"] += h.register_kwh if use_register else h.heat_power_kwh
        day["heat_c"] += (h.register_cov if use_register else h.heat_power_cov) * h.length_s
    out = []
    for d, day in days.items():
        heat = day["heat"] if day["heat_c"] else None
        tot = day["tot"] if day["tot_c"] else None
        out.append(
            {
                "date": d.isoformat(),
                "hours": day["s"] / 3600,
                "heat_kwh": heat,
                "it_kwh": day["it"] if day["it_c"] else None,
                "total_kwh": tot,
                "erf": _ratio(*day["erf"]) if heat is not None and tot is not None else None,
                "coverage": day["it_c"] / day["s"],
            }
        )
    return out


def sla_heatmap(job: Job) -> dict:
    """SLA share per local day (rows) and hour of day (columns); None where no heat was called."""
    cells: dict[tuple[str, int], list[float]] = {}
    for t in job.hours:
        local = job.period.local(t)
        called, inband, _joint = job.sla.get(t, (0.0, 0.0, 0.0))
        cell = cells.setdefault((local.date().isoformat(), local.hour), [0.0, 0.0])
        cell[0] += inband
        cell[1] += called
    days = sorted({d for d, _ in cells})
    z = [[_ratio(*cells[(d, hour)]) if (d, hour) in cells else None for hour in range(24)] for d in days]
    return {"days": days, "hours": list(range(24)), "z": z}
