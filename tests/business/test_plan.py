"""The business case's arithmetic: each scenario's cumulative cash and payback day, and the
projection from measured months at their pace."""

from __future__ import annotations

from datetime import date

from apps.business.plan import PlanMonth, cash_flow, compare, measured_month


def plan(kind="expected", **kw) -> PlanMonth:
    values = dict(
        kind=kind,
        opex=0.0,
        heat_kwh=0.0,
        heat_revenue=0.0,
        avoided_fuel_kwh=0.0,
        avoided_cost=0.0,
        avoided_co2e_kg=0.0,
        compute_revenue=0.0,
        it_kwh=0.0,
        uptime=1.0,
    )
    values.update(kw)
    return PlanMonth(**values)


def test_payback_falls_on_the_day_the_cumulative_cash_reaches_zero():
    # 1000 paid at the start, 300 a month: -700, -400, -100, then 100 of April's 300 (a third of 30 days)
    flow = cash_flow(start=date(2027, 1, 1), capex={date(2027, 1, 1): 1000.0}, net_of_month=lambda i: 300.0)
    assert flow.cumulative[:4] == [-700.0, -400.0, -100.0, 200.0]
    assert flow.payback == date(2027, 4, 11)


def test_capex_paid_later_postpones_payback_and_capex_before_the_start_counts_in_the_first_month():
    capex = {date(2026, 11, 1): 600.0, date(2027, 3, 1): 900.0}
    flow = cash_flow(start=date(2027, 1, 1), capex=capex, net_of_month=lambda i: 300.0)
    # Jan -300, Feb 0 (paid back for a moment), Mar -600, Apr -300, May 0
    assert flow.cumulative[:5] == [-300.0, 0.0, -600.0, -300.0, 0.0]
    assert flow.payback == date(2027, 6, 1)  # at the end of May


def test_a_plan_that_loses_money_never_pays_back():
    flow = cash_flow(
        start=date(2027, 1, 1), capex={date(2027, 1, 1): 10.0}, net_of_month=lambda i: -1.0, months=24
    )
    assert flow.payback is None


def test_a_measured_month_brings_in_the_tariff_compute_by_uptime_and_the_expected_opex():
    expected = plan(opex=1000.0, compute_revenue=4000.0, uptime=0.99, avoided_cost=900.0)
    figures = {
        "revenue_capacity": 270.0,
        "revenue_energy": 700.0,
        "avoided_cost": 1500.0,
        "availability": 0.495,
        "heat_coverage": 0.5,
    }
    m = measured_month(
        month=date(2027, 1, 1), share=1.0, figures=figures, expected=expected, with_avoided=False
    )
    assert m.compute_revenue == 2000.0  # half the planned uptime: half the compute revenue
    assert m.cash == 270.0 + 700.0 + 2000.0 - 1000.0
    # the heat measured covers half the month: a whole month at this pace sells twice as much
    assert m.full_month_rate == 270.0 + 1400.0 + 2000.0 - 1000.0
    owner = measured_month(
        month=date(2027, 1, 1), share=1.0, figures=figures, expected=expected, with_avoided=True
    )
    assert owner.cash == m.cash + 1500.0


def test_a_month_without_heat_data_says_nothing_of_the_pace():
    m = measured_month(
        month=date(2027, 1, 1),
        share=1.0,
        figures={"revenue_capacity": 270.0, "heat_coverage": 0.0},
        expected=plan(),
        with_avoided=False,
    )
    assert m.cash == 270.0 and m.full_month_rate is None
    result = compare(
        start=date(2027, 1, 1),
        capex={date(2027, 1, 1): 100.0},
        plans=[plan()],
        measured=[m],
        with_avoided=False,
    )
    assert result.actual is None and result.rate is None


def test_the_projection_continues_the_measured_months_at_their_pace():
    expected = plan(heat_revenue=500.0)
    capex = {date(2027, 1, 1): 3000.0}
    months = [
        measured_month(
            month=date(2027, 1, 1),
            share=1.0,
            figures={"revenue_energy": 400.0, "heat_coverage": 1.0},
            expected=expected,
            with_avoided=False,
        ),
        measured_month(
            month=date(2027, 2, 1),
            share=0.5,
            figures={"revenue_energy": 100.0, "heat_coverage": 0.5},
            expected=expected,
            with_avoided=False,
        ),
    ]
    result = compare(
        start=date(2027, 1, 1), capex=capex, plans=[expected], measured=months, with_avoided=False
    )
    assert result.scenarios["expected"].payback == date(2027, 7, 1)  # 3000 at 500 a month: at the end of June
    assert months[1].full_month_rate == 400.0  # 100 over a quarter of the month
    assert result.rate == 400.0
    # Jan 400, Feb 100 so far + 200 for its second half, then 400 a month: -2600, -2300, -1900, ...
    assert result.actual.cumulative[:3] == [-2600.0, -2300.0, -1900.0]
    assert result.actual.payback == date(2027, 8, 24)  # 2300 after February: 5.75 months at 400
