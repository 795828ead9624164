"""The report's figures from the hourly rows compute.collect() gathered: energies,
ratios, money, carbon, SLA, availability, per period, per local day and per local hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import conf
from .compute import Job, coverage


@dataclass
class HourFigures:
    t: int
    length_s: float
    it_kwh: float = 0.0
    it_cov: float = 0.0
    tot_kwh: float = 0.0
    tot_cov: float = 0.0
    up: float = 0.0  # share of IT points above the threshold, weighted by coverage
    heat_power_kwh: float = 0.0
    heat_power_cov: float = 0.0
    register_kwh: float = 0.0
    register_cov: float = 0.0
    register_full: bool = False
    pump_run_h: float = 0.0
    pump_cov: float = 0.0
    sla: tuple[float, float, float] = (0.0, 0.0, 0.0)


def hour_figures(job: Job) -> list[HourFigures]:
    meters = job.series("meter:")
    registers = [k for k in meters if any(job.count(k, t, "e_n") for t in job.hours)]
    power_meters = [k for k in meters if any(job.count(k, t) for t in job.hours)]
    pumps = job.series("pump:")
    register_previous = {k: job.before.get(k) for k in registers}
    out = []
    for t in job.hours:
        length = job.length_s(t)
        h = HourFigures(t=t, length_s=length, sla=tuple(job.sla.get(t, (0.0, 0.0, 0.0))))
        it_mean = job.value("facility", t, "it")
        if it_mean is not None:
            h.it_cov = job.cov("facility", t)
            h.it_kwh = it_mean * h.it_cov * length / 3600
            n = job.count("facility", t)
            h.up = job.count("facility", t, "up_n") / n * h.it_cov if n else 0.0
        tot_mean = job.value("facility", t, "tot")
        if tot_mean is not None:
            h.tot_cov = job.cov("facility", t, "tot_n")
            h.tot_kwh = tot_mean * h.tot_cov * length / 3600
        if power_meters:
            covs = [job.cov(k, t) for k in power_meters]
            h.heat_power_cov = min(covs)
            h.heat_power_kwh = sum(
                (job.value(k, t, "p") or 0.0) * c * length / 3600
                for k, c in zip(power_meters, covs, strict=True)
            )
        if registers:
            h.register_cov = min(job.cov(k, t, "e_n") for k in registers)
            h.register_full = h.register_cov == 1.0
            for k in registers:
                e = job.value(k, t, "e")
                if e is None:
                    continue
                if (k, t) in job.register_fix:
                    h.register_kwh += job.register_fix[(k, t)]
                else:
                    h.register_kwh += e - register_previous[k]
                register_previous[k] = e
        if pumps:
            covs = []
            for k in pumps:
                nom = job.nominal(k)
                covs.append(coverage(job.count(k, t), nom))
                if nom:
                    h.pump_run_h += min(1.0, job.count(k, t, "run_n") / nom) * length / 3600
            h.pump_cov = min(covs)
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
    previous_full = False
    for h in hours:
        if h.register_full and previous_full and h.heat_power_cov == 1.0:
            check_reg += h.register_kwh
            check_pow += h.heat_power_kwh
        previous_full = h.register_full
    check_diff = (check_reg - check_pow) / check_pow if check_pow > 0 else None

    efficiency = site.displaced_efficiency or 0
    avoided_fuel = heat / efficiency if heat is not None and efficiency > 0 else None
    capacity_charge = float(site.capacity_charge_per_kw_month) * site.contracted_capacity_kw * period.months
    energy_charge = float(site.energy_charge_per_kwh) * heat if heat is not None else None
    min_heat = site.min_monthly_heat_kwh * period.months
    called, inband, joint = (sum(h.sla[i] for h in hours) for i in range(3))
    up = sum(h.up * h.length_s for h in hours)
    it_seconds = sum(h.it_cov * h.length_s for h in hours)
    pumps = job.series("pump:")

    return {
        "site": site.slug,
        "site_name": site.name,
        "period": period.label,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "timezone": period.tz,
        "hours": round(period.hours, 3),
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
        "heat_recovery_ratio": _ratio(heat, it_kwh),
        "heat_recovery_coverage": min(heat_cov, it_cov),
        "erf": _ratio(heat, total_kwh),
        "pue": _ratio(total_kwh, it_kwh),
        "ere": _ratio(total_kwh - heat, it_kwh) if total_kwh is not None and heat is not None else None,
        "ratios_coverage": min(heat_cov, it_cov, tot_cov),
        "avoided_fuel_kwh": avoided_fuel,
        "avoided_cost": avoided_fuel * float(site.fuel_price_per_kwh) if avoided_fuel is not None else None,
        "avoided_emissions_kg": avoided_fuel * site.emission_factor_kg_per_kwh
        if avoided_fuel is not None
        else None,
        "revenue_capacity": capacity_charge,
        "revenue_energy": energy_charge,
        "revenue_total": capacity_charge + (energy_charge or 0.0),
        "sla_compliance": _ratio(inband, called),
        "sla_hours_called": called / 3600,
        "sla_hours_in_band": inband / 3600,
        "sla_coverage": joint / seconds,
        "sla_source": job.sla_source,
        "min_heat_kwh": min_heat,
        "min_heat_met": (heat >= min_heat) if heat is not None else None,
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
            {"s": 0.0, "it": 0.0, "it_c": 0.0, "tot": 0.0, "tot_c": 0.0, "heat": 0.0, "heat_c": 0.0},
        )
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
                "erf": _ratio(heat, tot),
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
