"""The report's figures from synthetic series in the real InfluxDB, against the truth known by
construction: constant power, a step, a gap, a meter reset, supply out of band, a month
with a clock change. Every figure must match to 0.1 %."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from apps.reports.periods import Period, month_period
from apps.reports.selectors import site_period_figures, site_report
from apps.telemetry.influx.points import Point

from .conftest import recent_month, series

MIN = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
REL = 1e-3  # 0.1 %
HEAT_KW = 12.0


@dataclass(frozen=True)
class Days:
    """A 3-day period, the 2nd to the 5th of the most recent complete November (GMT, so
    local time is UTC), and the moments the scenario's events happen at."""

    month: Period

    @property
    def period(self) -> Period:
        return Period(
            self.month.start + timedelta(days=1), self.month.start + timedelta(days=4), "Europe/London"
        )

    @property
    def start(self) -> datetime:
        return self.period.start_utc

    @property
    def end(self) -> datetime:
        return self.period.end_utc

    @property
    def month_days(self) -> int:
        return calendar.monthrange(self.month.start.year, self.month.start.month)[1]

    def at(self, offset: timedelta) -> datetime:
        return self.start + offset

    def span(self, a: timedelta, b: timedelta) -> tuple[datetime, datetime]:
        return self.at(a), self.at(b)

    @property
    def data(self) -> tuple[datetime, datetime]:
        return self.start - 2 * H, self.end + 2 * H

    @property
    def gap(self):  # no facility data (half an hour into an hour)
        return self.span(D + 6.5 * H, D + 12 * H)

    @property
    def step_at(self):  # IT power 10 kW -> 30 kW
        return self.at(D + 12 * H)

    @property
    def idle(self):  # IT at 0.5 kW: compute unavailable
        return self.span(2 * D, 2 * D + 3 * H)

    @property
    def reset_at(self):  # the heat meter's register restarts from 0
        return self.at(2 * D + 12 * H)

    @property
    def supply_gap(self):  # no supply temperature
        return self.span(18.25 * H, 19 * H)

    @property
    def pump_off(self):
        return self.span(D, D + 10 * H)

    def it_kw(self, t: datetime) -> float:
        if inside(t, self.idle):
            return 0.5
        return 10.0 if t < self.step_at else 30.0

    def in_period(self, t: datetime) -> bool:
        return self.start <= t < self.end


def inside(t: datetime, span: tuple[datetime, datetime]) -> bool:
    return span[0] <= t < span[1]


@pytest.fixture
def days(now) -> Days:
    return Days(recent_month("Europe/London", 11, now))


@pytest.fixture
def scenario(influx, contract_site, days):
    d = days
    site = {"site": contract_site.slug}
    data_start, data_end = d.data

    def facility(t):
        if inside(t, d.gap):
            return None
        return {"it_power_kw": d.it_kw(t), "total_power_kw": d.it_kw(t) + 2.0}

    def meter(t):
        minutes = (t - data_start) / MIN if t < d.reset_at else (t - d.reset_at) / MIN
        fields = {"power_kw": HEAT_KW, "energy_kwh": HEAT_KW / 60 * minutes}
        if not inside(t, d.supply_gap):
            fields["supply_temp_c"] = 70.0 if t.hour == 12 and t.minute < 30 else 50.0
        return fields

    written = {
        "facility": series(influx, "facility", site, data_start, data_end, MIN, facility),
        "meter": series(influx, "heat_meter", {**site, "asset": "meter-1"}, data_start, data_end, MIN, meter),
        "consumer": series(
            influx,
            "consumer",
            site,
            data_start,
            data_end,
            MIN,
            lambda t: {"demand_kw": 0.2 if t.hour < 6 else 8.0},
        ),
        "pump": series(
            influx,
            "pump",
            {**site, "asset": "pump-primary"},
            data_start,
            data_end,
            MIN,
            lambda t: {"running": not inside(t, d.pump_off)},
        ),
    }
    [fig] = site_period_figures(sites=[contract_site], periods=[d.period])
    return contract_site, fig, written, d


def truth(written, d: Days) -> dict:
    """The figures by brute force over what was written, minute by minute."""
    fac = [(t, f) for t, f in written["facility"] if d.in_period(t)]
    it = sum(f["it_power_kw"] for _, f in fac) / 60
    total = sum(f["total_power_kw"] for _, f in fac) / 60
    meter = written["meter"]
    facility_times = {t for t, _f in written["facility"]}
    heat = heat_with_facility = 0.0  # increases from the reading just before the period
    for (t0, a), (t1, b) in zip(meter, meter[1:], strict=False):
        if d.in_period(t1):
            # a drop is a restart from zero (here the reading after the reset is 0)
            increase = (
                b["energy_kwh"] - a["energy_kwh"] if b["energy_kwh"] >= a["energy_kwh"] else b["energy_kwh"]
            )
            heat += increase
            if t0 in facility_times and t1 in facility_times:  # the minute IT and total cover
                heat_with_facility += increase
    supply = {t: f.get("supply_temp_c") for t, f in meter}
    called = inband = joint = 0
    for t, f in written["consumer"]:
        s = supply.get(t)
        if not d.in_period(t) or s is None:
            continue
        joint += 1
        if f["demand_kw"] > 0.5:
            called += 1
            inband += 45 <= s <= 65
    up = sum(f["it_power_kw"] > 1.0 for _, f in fac)
    pump = sum(f["running"] for t, f in written["pump"] if d.in_period(t))
    return {
        "it": it,
        "total": total,
        "heat": heat,
        "heat_with_facility": heat_with_facility,
        "called": called,
        "inband": inband,
        "joint": joint,
        "up": up,
        "fac_n": len(fac),
        "pump_h": pump / 60,
    }


def test_energy_with_a_step_and_a_gap_counts_only_the_minutes_with_data(scenario):
    _site, fig, written, d = scenario
    t = truth(written, d)
    # by hand: 10 kW for 30.5 h (36 h before the step less the 5.5 h gap), then 30 kW for
    # 33 h and 0.5 kW for 3 h
    assert t["it"] == pytest.approx(10 * 30.5 + 30 * 33 + 0.5 * 3)
    assert fig["it_energy_kwh"] == pytest.approx(t["it"], rel=REL)
    assert fig["total_energy_kwh"] == pytest.approx(t["total"], rel=REL)
    assert fig["it_energy_coverage"] == pytest.approx(66.5 / 72, rel=REL)  # the gap is shown, not filled
    assert fig["total_energy_coverage"] == pytest.approx(66.5 / 72, rel=REL)
    assert fig["hours"] == 72


def test_heat_from_the_register_sums_the_segments_around_a_meter_reset(scenario):
    _site, fig, written, d = scenario
    t = truth(written, d)
    assert t["heat"] == pytest.approx(HEAT_KW * 72 - HEAT_KW / 60)  # one minute lost at the reset
    assert fig["heat_source"] == "register"
    assert fig["heat_delivered_kwh"] == pytest.approx(t["heat"], rel=REL)
    assert fig["meter_resets"] == 1
    assert fig["heat_power_integral_kwh"] == pytest.approx(HEAT_KW * 72, rel=REL)
    assert fig["meter_check_flag"] is False
    assert abs(fig["meter_check_diff"]) < 0.005
    assert fig["heat_coverage"] == pytest.approx(1.0)


def test_ratios_follow_their_formulas_over_the_time_all_their_inputs_cover(scenario):
    site, fig, written, d = scenario
    t = truth(written, d)
    # the heat meter ran through the facility gap: the ratios leave its heat out there
    heat = t["heat_with_facility"]
    assert heat == pytest.approx(t["heat"] - HEAT_KW * 5.5, abs=HEAT_KW / 30)
    assert fig["heat_recovery_ratio"] == pytest.approx(heat / t["it"], rel=REL)
    assert fig["erf"] == pytest.approx(heat / t["total"], rel=REL)
    assert fig["pue"] == pytest.approx(t["total"] / t["it"], rel=REL)
    assert fig["ere"] == pytest.approx((t["total"] - heat) / t["it"], rel=REL)
    for key in ("ratios_coverage", "heat_recovery_coverage", "erf_coverage", "pue_coverage", "ere_coverage"):
        assert fig[key] == pytest.approx(66.5 / 72, rel=REL), key
    fuel = t["heat"] / 0.9
    assert fig["avoided_fuel_kwh"] == pytest.approx(fuel, rel=REL)
    assert fig["avoided_cost"] == pytest.approx(fuel * 0.07, rel=REL)
    assert fig["avoided_emissions_kg"] == pytest.approx(fuel * 0.2, rel=REL)


def test_revenue_is_prorated_by_days_for_a_partial_month(scenario):
    _site, fig, written, d = scenario
    t = truth(written, d)
    capacity = 4.00 * 50 * 3 / d.month_days  # 3 of November's 30 days
    assert fig["revenue_capacity"] == pytest.approx(capacity, rel=REL)
    assert fig["revenue_energy"] == pytest.approx(0.05 * t["heat"], rel=REL)
    assert fig["revenue_total"] == pytest.approx(capacity + 0.05 * t["heat"], rel=REL)
    assert fig["min_heat_kwh"] == pytest.approx(5000 * 3 / d.month_days)
    assert fig["min_heat_met"] is True


def test_sla_counts_minutes_in_band_while_heat_is_called_for(scenario):
    _site, fig, written, d = scenario
    t = truth(written, d)
    # by hand: heat called 18 h a day, supply out of band 30 min a day, 45 min without supply
    assert (t["called"], t["inband"]) == (3 * 1080 - 45, 3 * 1080 - 45 - 90)
    assert fig["sla_compliance"] == pytest.approx(t["inband"] / t["called"], rel=REL)
    assert fig["sla_coverage"] == pytest.approx(t["joint"] / (72 * 60), rel=REL)
    assert fig["sla_hours_called"] == pytest.approx(t["called"] / 60, rel=REL)
    assert fig["sla_source"] == "heat_meter"


def test_availability_and_pump_runtime(scenario):
    _site, fig, written, d = scenario
    t = truth(written, d)
    assert fig["availability"] == pytest.approx(t["up"] / t["fac_n"], rel=REL)
    assert fig["availability"] == pytest.approx((66.5 - 3) / 66.5, rel=REL)
    assert fig["pump_runtime_h"] == pytest.approx(72 - 10, rel=REL)
    assert fig["pump_runtime_h"] == pytest.approx(t["pump_h"], rel=REL)


def test_a_register_that_disagrees_with_the_power_is_flagged(influx, contract_site, days):
    day = Period(days.month.start + timedelta(days=8), days.month.start + timedelta(days=9), "Europe/London")
    start, end = day.start_utc - timedelta(hours=1), day.end_utc + timedelta(hours=1)

    def meter(t):  # the register counts 17 kW while the power says 15 kW
        return {"power_kw": 15.0, "energy_kwh": 17.0 / 60 * ((t - start) / MIN)}

    series(influx, "heat_meter", {"site": contract_site.slug, "asset": "m"}, start, end, MIN, meter)
    [fig] = site_period_figures(sites=[contract_site], periods=[day])
    assert fig["heat_delivered_kwh"] == pytest.approx(17 * 24, rel=REL)
    assert fig["heat_power_integral_kwh"] == pytest.approx(15 * 24, rel=REL)
    assert fig["meter_check_diff"] == pytest.approx(2 / 15, rel=1e-2)
    assert fig["meter_check_flag"] is True
    assert fig["it_energy_kwh"] is None  # no facility data: no figure, never 0
    assert fig["it_energy_coverage"] == 0
    assert fig["pue"] is None and fig["erf"] is None


def test_without_a_register_heat_is_the_power_integral_and_sla_falls_back_to_the_primary_loop(
    influx, contract_site, days
):
    day = Period(days.month.start + timedelta(days=8), days.month.start + timedelta(days=9), "Europe/London")
    start, end = day.start_utc, day.end_utc
    site = {"site": contract_site.slug}
    series(influx, "heat_meter", {**site, "asset": "m"}, start, end, MIN, lambda t: {"power_kw": 6.0})
    series(
        influx,
        "loop",
        {**site, "loop": "primary"},
        start,
        end,
        MIN,
        lambda t: {"supply_temp_c": 40.0 if t.hour < 6 else 50.0},
    )
    series(influx, "consumer", site, start, end, MIN, lambda t: {"demand_kw": 3.0})
    [fig] = site_period_figures(sites=[contract_site], periods=[day])
    assert fig["heat_source"] == "power"
    assert fig["heat_delivered_kwh"] == pytest.approx(6 * 24, rel=REL)
    assert fig["sla_source"] == "loop"
    assert fig["sla_compliance"] == pytest.approx(18 / 24, rel=REL)
    assert fig["sla_coverage"] == pytest.approx(1.0)


@pytest.mark.parametrize(("month", "hours"), [(3, 743), (10, 745)])
def test_a_month_with_a_clock_change_runs_local_midnight_to_local_midnight(
    influx, contract_site, settings, now, month, hours
):
    """Europe/London: March has 743 hours, October 745 (the most recent complete ones here).
    Outside the local month the IT power is 99 kW, so a boundary an hour off would show at once."""
    settings.HEATOPS_REPORT_BUCKET = "10m"
    period = recent_month("Europe/London", month, now)
    assert period.hours == hours
    step = timedelta(minutes=10)
    site = {"site": contract_site.slug}
    start, end = period.start_utc - timedelta(hours=3), period.end_utc + timedelta(hours=3)

    def facility(t):
        it = 12.0 if period.start_utc <= t < period.end_utc else 99.0
        return {"it_power_kw": it, "total_power_kw": it + 3.0}

    def meter(t):
        return {"power_kw": 9.0, "energy_kwh": 9.0 * (t - start) / timedelta(hours=1), "supply_temp_c": 50.0}

    series(influx, "facility", site, start, end, step, facility)
    series(influx, "heat_meter", {**site, "asset": "m"}, start, end, step, meter)
    series(influx, "consumer", site, start, end, step, lambda t: {"demand_kw": 5.0})
    report = site_report(site=contract_site, period=period)
    fig = report.figures
    assert fig["hours"] == hours
    assert fig["it_energy_kwh"] == pytest.approx(12 * hours, rel=REL)
    assert fig["total_energy_kwh"] == pytest.approx(15 * hours, rel=REL)
    assert fig["heat_delivered_kwh"] == pytest.approx(9 * hours, rel=REL)
    assert fig["it_energy_coverage"] == pytest.approx(1.0)
    assert fig["erf"] == pytest.approx(9 / 15, rel=REL)
    assert fig["pue"] == pytest.approx(15 / 12, rel=REL)
    assert fig["sla_compliance"] == pytest.approx(1.0)
    assert fig["revenue_total"] == pytest.approx(4.00 * 50 + 0.05 * 9 * hours, rel=REL)
    assert fig["min_heat_met"] is True  # 9 kW for a month is more than 5,000 kWh
    # the daily chart has every local day, the clock-change day 23 or 25 hours long
    assert len(report.days) == period.days
    change = [d for d in report.days if d["it_kwh"] and abs(d["it_kwh"] - 12 * 24) > 1]
    assert [round(d["it_kwh"] / 12) for d in change] == [hours - 24 * period.days + 24]
    assert len(report.heatmap["days"]) == period.days
    # the comparison months are computed alongside: the previous month has only the
    # three hours written before this one; the same month last year has nothing
    assert report.compare["previous"]["it_energy_kwh"] == pytest.approx(99 * 3, rel=REL)
    assert report.compare["last_year"]["it_energy_kwh"] is None
    assert report.compare["last_year"]["it_energy_coverage"] == 0


def test_alarm_load_mtta_mttr_and_manual_interventions(db, contract_site, django_user_model, influx, days):
    from apps.alarms.choices import AlarmState, Domain, EventKind, RuleKind, Severity
    from apps.alarms.models import Alarm, AlarmEvent, AlarmRule

    person = django_user_model.objects.create_user("oncall")
    t0 = days.at(8 * H)

    def alarm(n, severity, domain, ack_min=None, fix_min=None, by=None):
        rule = AlarmRule.objects.create(
            site=contract_site, name=f"rule {n}", kind=RuleKind.ABOVE, domain=domain, meaning="m", threshold=1
        )
        a = Alarm.objects.create(
            rule=rule,
            site=contract_site,
            severity=severity,
            domain=domain,
            title=f"alarm {n}",
            message="",
            state=AlarmState.RESOLVED if fix_min else AlarmState.FIRING,
            fired_at=t0 + timedelta(hours=n),
            acknowledged_at=t0 + timedelta(hours=n, minutes=ack_min) if ack_min else None,
            resolved_at=t0 + timedelta(hours=n, minutes=fix_min) if fix_min else None,
            resolved_by=by,
        )
        if ack_min:
            AlarmEvent.objects.create(alarm=a, at=a.acknowledged_at, kind=EventKind.ACKNOWLEDGED, user=person)
        if fix_min:
            AlarmEvent.objects.create(alarm=a, at=a.resolved_at, kind=EventKind.RESOLVED, user=by)
        return a

    alarm(1, Severity.CRITICAL, Domain.THERMAL, ack_min=4, fix_min=30, by=person)
    alarm(2, Severity.MAJOR, Domain.THERMAL, ack_min=10, fix_min=90)  # cleared by itself
    alarm(3, Severity.WARNING, Domain.COMPUTE)
    alarm(100, Severity.CRITICAL, Domain.SAFETY, ack_min=1)  # fired after the period
    [fig] = site_period_figures(sites=[contract_site], periods=[days.period])
    assert fig["alarms_total"] == 3
    assert (fig["alarms_critical"], fig["alarms_major"], fig["alarms_warning"], fig["alarms_minor"]) == (
        1,
        1,
        1,
        0,
    )
    assert (fig["alarms_thermal"], fig["alarms_compute"], fig["alarms_safety"]) == (2, 1, 0)
    assert fig["mtta_min"] == pytest.approx(7)
    assert fig["mttr_min"] == pytest.approx(60)
    assert fig["manual_interventions"] == 3  # two acknowledgements, one resolution by a person


def test_a_portfolio_reads_each_site_in_its_own_time_zone(influx, contract_site, now):
    """Two sites, London and New York, in one portfolio read: each month runs local midnight
    to local midnight (New York's November starts at 04:00 UTC and has 721 hours)."""
    from apps.reports.selectors import portfolio_month, portfolio_totals
    from tests.factories import make_site

    ny = make_site(name="Hudson Library", slug="hudson", timezone="America/New_York")
    year = recent_month(ny.timezone, 11, now).start.year  # over in New York, so in London too
    step = timedelta(minutes=10)
    for site, kw in ((contract_site, 20.0), (ny, 8.0)):
        period = month_period(site.timezone, year, 11)
        start, end = period.start_utc - timedelta(hours=6), period.end_utc + timedelta(hours=6)

        def facility(t, period=period, kw=kw):
            inside_month = period.start_utc <= t < period.end_utc
            return {"it_power_kw": kw if inside_month else 500.0, "total_power_kw": kw * 1.25}

        series(influx, "facility", {"site": site.slug}, start, end, step, facility)
    rows = portfolio_month(sites=[contract_site, ny], year=year, month=11)
    assert [r["hours"] for r in rows] == [720, 721]
    assert rows[0]["it_energy_kwh"] == pytest.approx(20 * 720, rel=REL)
    assert rows[1]["it_energy_kwh"] == pytest.approx(8 * 721, rel=REL)
    totals = portfolio_totals(rows)
    assert totals["it_energy_kwh"] == pytest.approx(20 * 720 + 8 * 721, rel=REL)
    assert totals["pue"] == pytest.approx(1.25, rel=REL)


def test_portfolio_ratios_pool_each_sites_common_time_numerators_and_denominators():
    from apps.reports.selectors import portfolio_totals

    rows = [
        {  # IT lost for a while: its PUE is formed over the time both are known
            "currency": "GBP",
            "revenue_total": 0.0,
            "avoided_cost": 0.0,
            "it_energy_kwh": 900.0,
            "total_energy_kwh": 1300.0,
            "heat_delivered_kwh": 800.0,
            "ratio_energies": {
                "pue": [1170.0, 900.0],
                "erf": [800.0, 1300.0],
                "heat_recovery_ratio": [720.0, 900.0],
            },
        },
        {  # a snapshot published before the energies were kept: its own energies
            "currency": "GBP",
            "revenue_total": 0.0,
            "avoided_cost": 0.0,
            "it_energy_kwh": 100.0,
            "total_energy_kwh": 130.0,
            "heat_delivered_kwh": 80.0,
        },
        {  # no facility meter: no PUE, no ERF
            "currency": "GBP",
            "revenue_total": 0.0,
            "avoided_cost": 0.0,
            "it_energy_kwh": 50.0,
            "total_energy_kwh": None,
            "heat_delivered_kwh": 40.0,
            "ratio_energies": {"pue": None, "erf": None, "heat_recovery_ratio": [40.0, 50.0]},
        },
    ]
    totals = portfolio_totals(rows)
    assert totals["pue"] == pytest.approx((1170 + 130) / (900 + 100))
    assert totals["erf"] == pytest.approx((800 + 80) / (1300 + 130))
    assert totals["heat_recovery_ratio"] == pytest.approx((720 + 80 + 40) / (900 + 100 + 50))


def test_ranking_puts_the_best_first_and_sites_without_the_figure_last():
    from apps.reports.selectors import ranking

    rows = [
        {"site": "a", "erf": 0.2, "pue": 1.3},
        {"site": "b", "erf": None, "pue": 1.1},
        {"site": "c", "erf": 0.5, "pue": 1.2},
    ]
    assert [(r["site"], r["rank"]) for r in ranking(rows, "erf")] == [("c", 1), ("a", 2), ("b", None)]
    assert [r["site"] for r in ranking(rows, "pue")] == ["b", "c", "a"]  # lower is better


def test_report_statements_escape_what_they_are_given(influx, days):
    from apps.telemetry.influx.statements import hourly_statement, rollup_statement

    awkward = "o' OR 1=1 --"
    influx.write_lines(Point("facility", {"site": awkward}, {"it_power_kw": 3.0}, days.start).to_line())
    common = {"start": days.start, "end": days.end}
    [hourly] = influx.rollups(
        [
            hourly_statement(
                measurement="facility",
                calls={"n": ("count", "it_power_kw")},
                tags_any={"site": [awkward]},
                **common,
            )
        ]
    )
    assert hourly[0].values[0][1] == 1
    [rolled] = influx.rollups(
        [
            rollup_statement(
                measurement="facility",
                inner={"p": ("mean", "it_power_kw")},
                tags={"site": awkward},
                bucket="1m",
                **common,
            )
        ]
    )
    assert rolled[0].values[0][1] == 3.0
    with pytest.raises(ValueError):
        hourly_statement(measurement="facility", calls={"x": ("drop", "it_power_kw")}, **common)
    with pytest.raises(ValueError):
        rollup_statement(
            measurement="facility",
            inner={"p": ("mean", "x")},
            where=[("p", "; DROP", 1)],
            bucket="1m",
            **common,
        )
