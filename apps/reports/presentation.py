"""How figures read: one formatting for the page, the PDF and the email, one column list
for the CSV (documented in docs/reports.md), so every copy of a report agrees."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from apps.alarms.choices import Domain, Severity

from .formatting import coverage_text, fmt, has_data, in_progress_text, min_heat_text, response
from .periods import previous_month
from .summary import published_text, summary

# (key, label, kind, coverage key) - kind decides the formatting
FIGURES = [
    ("heat_delivered_kwh", "Heat delivered", "kwh", "heat_coverage"),
    ("it_energy_kwh", "IT energy", "kwh", "it_energy_coverage"),
    ("total_energy_kwh", "Total facility energy", "kwh", "total_energy_coverage"),
    ("heat_recovery_ratio", "Heat recovery ratio (heat ÷ IT)", "pct", "heat_recovery_coverage"),
    ("erf", "ERF (reused ÷ total)", "ratio", "erf_coverage"),
    ("pue", "PUE (total ÷ IT)", "ratio", "pue_coverage"),
    ("ere", "ERE ((total − reused) ÷ IT)", "ratio", "ere_coverage"),
    ("sla_compliance", "Supply temperature SLA met", "pct", "sla_coverage"),
    ("availability", "Compute availability", "pct", "availability_coverage"),
    ("avoided_fuel_kwh", "Avoided fuel", "kwh", "heat_coverage"),
    ("avoided_emissions_kg", "Avoided emissions", "kg", "heat_coverage"),
    ("avoided_cost", "Avoided fuel cost", "money", "heat_coverage"),
    ("revenue_total", "Heat revenue", "money", "heat_coverage"),
    ("pump_runtime_h", "Pump runtime", "hours", "pump_coverage"),
]

# CSV: one row per site per period; (column, meaning). docs/reports.md lists the same.
CSV_COLUMNS = [
    ("site", "site slug"),
    ("site_name", "site name"),
    ("period", "YYYY-MM, or first to last day"),
    ("period_start", "first local day (ISO date)"),
    ("period_end", "first local day after the period (ISO date)"),
    ("timezone", "the site's IANA time zone"),
    ("hours", "hours in the period (743/745 in a month with a clock change)"),
    ("in_progress", "true while the period is not over: every figure covers it only up to `until`"),
    ("until", "the end of the time the figures cover (UTC, ISO 8601): the period's end, or now"),
    ("hours_elapsed", "hours from the period's start to `until`; coverage is a share of these"),
    ("has_data", "false when the period has no data at all (then every figure is empty)"),
    ("currency", "ISO 4217 code of the money columns"),
    ("it_energy_kwh", "IT energy, kWh"),
    (
        "it_energy_coverage",
        "share of the period covered by IT power points no further apart than the maximum gap, 0-1",
    ),
    ("total_energy_kwh", "total facility energy, kWh"),
    ("total_energy_coverage", "the same for the facility total power, 0-1"),
    ("heat_delivered_kwh", "heat delivered to the consumer, kWh"),
    ("heat_source", "register (meter's kWh register) or power (integral of its power)"),
    (
        "heat_coverage",
        "share of the period bracketed by register readings (power: covered by its points), 0-1",
    ),
    ("heat_power_integral_kwh", "integral of the heat meter's power, kWh (cross-check)"),
    ("meter_check_diff", "(register - power integral) / power integral over fully covered hours"),
    ("meter_check_flag", "true if |meter_check_diff| is above the tolerance"),
    ("meter_resets", "times the register went down (each read as a restart from zero)"),
    ("heat_recovery_ratio", "heat delivered / IT energy, over the time both are known"),
    ("erf", "energy reuse factor: heat delivered / total facility energy, over the time both are known"),
    ("pue", "total facility energy / IT energy, over the time both are known"),
    ("ere", "(total facility energy - heat delivered) / IT energy, over the time all three are known"),
    ("ratios_coverage", "share of the period heat, IT and total are all known (ERE's), 0-1"),
    ("heat_recovery_coverage", "share of the period the heat recovery ratio is formed over, 0-1"),
    ("erf_coverage", "share of the period ERF is formed over, 0-1"),
    ("pue_coverage", "share of the period PUE is formed over, 0-1"),
    ("ere_coverage", "share of the period ERE is formed over, 0-1"),
    ("avoided_fuel_kwh", "heat delivered / displaced source efficiency, kWh of fuel"),
    ("avoided_cost", "avoided fuel x fuel price, in currency"),
    ("avoided_emissions_kg", "avoided fuel x emission factor, kg CO2e"),
    ("revenue_capacity", "capacity charge x contracted kW x months (pro-rated by days)"),
    ("revenue_energy", "energy charge x heat delivered"),
    ("revenue_total", "revenue_capacity + revenue_energy"),
    ("sla_compliance", "share of the time heat was called for with supply inside the band, 0-1"),
    (
        "sla_hours_called",
        "hours heat was called for (demand above threshold) with a supply temperature known",
    ),
    ("sla_coverage", "share of the period with both demand and supply temperature data, 0-1"),
    ("sla_source", "heat_meter or loop (primary loop supply, when the meter has none)"),
    (
        "min_heat_kwh",
        "contracted minimum heat for the time elapsed (pro-rated by days, and by time while in progress)",
    ),
    ("min_heat_met", "true if heat delivered reached it (in progress: on track)"),
    ("min_heat_shortfall_kwh", "how far heat delivered is below it (in progress: behind by), kWh; 0 if not"),
    ("availability", "share of the time with IT data that IT power was above the threshold, 0-1"),
    ("availability_coverage", "share of the period covered by IT power points, 0-1"),
    ("maintenance_windows", "maintenance windows overlapping the period (not cancelled)"),
    ("maintenance_hours", "hours inside maintenance windows (overlaps counted once)"),
    ("maintenance_allowed_hours", "maintenance the contract allows for the period, hours (pro-rated)"),
    (
        "maintenance_excluded_hours",
        "maintenance hours taken out below: the window hours, up to the allowance",
    ),
    ("sla_compliance_excl_maintenance", "sla_compliance without the maintenance time allowed, 0-1"),
    ("availability_excl_maintenance", "availability without the maintenance time allowed, 0-1"),
    ("pump_runtime_h", "hours pumps ran (summed over pumps; lost samples are not counted as off)"),
    ("alarms_total", "alarms fired in the period"),
    *((f"alarms_{s}", f"... of severity {s}") for s in Severity.values),
    *((f"alarms_{d}", f"... of domain {d}") for d in Domain.values),
    ("mtta_min", "mean minutes from firing to acknowledgement, over the alarms acknowledged"),
    ("alarms_acknowledged", "alarms fired in the period that were acknowledged"),
    (
        "alarms_unacknowledged",
        "alarms fired in the period never acknowledged (open, or cleared or resolved unacknowledged)",
    ),
    ("mttr_min", "mean minutes from firing to resolution, over the alarms resolved"),
    ("manual_interventions", "acknowledgements, resolutions and shelvings by a person"),
    ("figures_from", "published (the row is a published version, as sent) or computed (from InfluxDB now)"),
    ("published_version", "the latest published version of this site and period; empty if none"),
    ("published_at", "when that version was published (UTC, ISO 8601)"),
]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell a spreadsheet will not run: one that starts like a formula is written
    with a leading ' (OWASP's advice for CSV injection); numbers are left alone. Line
    breaks inside a cell go (CRs are dropped, LFs become spaces): a bare CR would start a
    new row in a spreadsheet, and a formula with it."""
    if "\r" in text or "\n" in text:
        text = text.replace("\r", "").replace("\n", " ")
    if text[:1] in FORMULA_STARTS:
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, int):
        return str(value)
    return csv_cell(str(value))


def csv_safe(text: str) -> str:
    """A stored CSV (a snapshot published before cells were neutralised) made safe to serve."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[csv_cell(c) for c in row] for row in rows])
    return out.getvalue()


def csv_text(rows: Sequence[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c for c, _ in CSV_COLUMNS])
    for row in rows:
        writer.writerow([csv_value(row.get(c)) for c, _ in CSV_COLUMNS])
    return out.getvalue()


def figure_rows(fig: dict) -> list[dict]:
    """The headline figures in reading order, each with its coverage."""
    rows = []
    data = has_data(fig)
    for key, label, kind, cov in FIGURES:
        # a snapshot published before each ratio had its own coverage: the ratios' one
        coverage = fig.get(cov) if cov in fig else fig.get("ratios_coverage")
        rows.append(
            {
                "key": key,
                "label": label,
                "value": fmt(fig.get(key) if data else None, kind, fig.get("currency", "")),
                "coverage": coverage_text(coverage, fig) if data else "no data",
                "partial": coverage is not None and 0 < coverage < 0.999,
            }
        )
    return rows


def compare_rows(current: dict, compare: dict[str, dict]) -> list[dict]:
    """This period against the previous month and the same month a year before."""
    columns = [current, compare.get("previous", {}), compare.get("last_year", {})]
    rows = []
    for key, label, kind, _cov in FIGURES:
        rows.append(
            {
                "label": label,
                "values": [
                    fmt(f.get(key), kind, f.get("currency", "")) if has_data(f) else "—" for f in columns
                ],
            }
        )
    return rows


def compare_data(current: dict, compare: dict[str, dict]) -> list[bool]:
    """Whether each compared column (this period, the previous month, a year before) has data."""
    return [has_data(f) for f in (current, compare.get("previous", {}), compare.get("last_year", {}))]


def notes(fig: dict) -> list[str]:
    """What a reader must know to trust the figures."""
    out = []
    if fig.get("meter_check_flag"):
        out.append(
            f"The heat meter's register and the integral of its power disagree by "
            f"{100 * fig['meter_check_diff']:+.1f} %: check the meter."
        )
    if fig.get("meter_resets"):
        out.append(
            f"The heat meter's register went down {fig['meter_resets']} time(s) (reset or "
            "replacement); each is read as a restart from zero, so what the new register counted "
            "is in heat delivered."
        )
    if fig.get("heat_source") == "power":
        out.append("No heat meter register: heat delivered is the integral of the meter's power.")
    if fig.get("sla_source") == "loop":
        out.append("The heat meter has no supply temperature: the SLA uses the primary loop's.")
    partial = [r["label"] for r in figure_rows(fig) if r["partial"]]
    if partial:
        out.append(
            "Data is missing for part of the period for: " + ", ".join(partial) + ". "
            "Gaps are left out, never filled: the figures cover only the time with data."
        )
    if fig.get("in_progress"):
        out.insert(0, in_progress_text(fig))
    if fig.get("min_heat_met") is False and not fig.get("in_progress"):
        out.append(
            f"The contracted minimum of {fmt(fig['min_heat_kwh'], 'kwh')} was not reached"
            + (" (data is incomplete)." if (fig.get("heat_coverage") or 0) < 0.999 else ".")
        )
    if fig.get("alarms_unacknowledged"):
        out.append(
            f"{fig['alarms_unacknowledged']} of {fig['alarms_total']} alarms were never acknowledged: "
            "the mean time to acknowledge is over the others only."
        )
    return out


def severity_labels() -> list[str]:
    return [label for _value, label in Severity.choices]


def compare_labels(period) -> list[str]:
    """Column heads of the comparison: this month, the previous one, the same a year before."""
    if not period.is_month:
        return []
    y, m = period.start.year, period.start.month
    previous = date(*previous_month(y, m), 1)
    return [f"{period.start:%B %Y}", f"{previous:%B %Y}", f"{date(y - 1, m, 1):%B %Y}"]


def chart_data(report) -> dict:
    """What the charts draw, embedded in the page and in the PDF alike."""
    keys = ("heat_delivered_kwh", "it_energy_kwh", "total_energy_kwh")
    compared = (
        ("This month", report.figures),
        ("Previous month", report.compare.get("previous")),
        ("Same month last year", report.compare.get("last_year")),
    )
    return {
        "days": [d["date"] for d in report.days],
        "heat": [d["heat_kwh"] for d in report.days],
        "it": [d["it_kwh"] for d in report.days],
        "erf": [d["erf"] for d in report.days],
        "coverage": [d["coverage"] for d in report.days],
        "heatmap": report.heatmap,
        "compare": {
            "names": ["Heat delivered", "IT energy", "Total facility energy"],
            "series": [{"name": name, "values": [f.get(k) for k in keys]} for name, f in compared if f],
        },
    }


def report_context(report) -> dict:
    """Everything the report's markup (templates/reports/_report_body.html) shows."""
    fig, currency = report.figures, report.figures.get("currency", "")
    check = fig.get("meter_check_diff")
    return {
        "site": report.site,
        "period": report.period,
        "report": report,
        "fig": fig,
        "figure_rows": figure_rows(fig),
        "figure_values": {r["key"]: r["value"] for r in figure_rows(fig)},
        "compare_rows": compare_rows(fig, report.compare),
        "compare_labels": compare_labels(report.period),
        "notes": notes(fig),
        "charts": chart_data(report),
        "alarm_severities": severity_labels(),
        "min_heat": fmt(fig.get("min_heat_kwh"), "kwh"),
        "heat_coverage": coverage_text(fig.get("heat_coverage"), fig) if has_data(fig) else "no data",
        "heat_power": fmt(fig.get("heat_power_integral_kwh"), "kwh"),
        "meter_check": "—"
        if check is None
        else fmt(check, "signed_pct") + (" ⚠ above tolerance" if fig.get("meter_check_flag") else ""),
        "revenue_capacity": fmt(fig.get("revenue_capacity"), "money", currency),
        "revenue_energy": fmt(fig.get("revenue_energy"), "money", currency),
        "sla_hours": fmt(fig.get("sla_hours_called"), "hours"),
        "sla_excl": fmt(fig.get("sla_compliance_excl_maintenance"), "pct"),
        "availability_excl": fmt(fig.get("availability_excl_maintenance"), "pct"),
        "maintenance_hours": fmt(fig.get("maintenance_hours"), "hours"),
        "maintenance_allowed": fmt(fig.get("maintenance_allowed_hours"), "hours"),
        "maintenance_excluded": fmt(fig.get("maintenance_excluded_hours"), "hours"),
        "mtta": response(fig).mtta_text,
        "mttr": response(fig).mttr_text,
        "min_heat_judged": min_heat_text(fig),
        "compare_data": compare_data(fig, report.compare),
        "summary": summary(fig, report.site),
        "in_progress": in_progress_text(fig) if fig.get("in_progress") else "",
        "published": published_text(fig),
    }


def totals_display(totals: dict) -> dict:
    money = totals.get("money", [])
    return {
        "heat": fmt(totals.get("heat_delivered_kwh"), "kwh"),
        "it": fmt(totals.get("it_energy_kwh"), "kwh"),
        "erf": fmt(totals.get("erf"), "ratio"),
        "pue": fmt(totals.get("pue"), "ratio"),
        "revenue": " + ".join(fmt(m["revenue_total"], "money", m["currency"]) for m in money) or "—",
        "emissions": fmt(totals.get("avoided_emissions_kg"), "kg"),
    }
