"""The report in words, for its first page: what went well, what did not, and the period
against the contract. Every sentence is made from the figures the report shows."""

from __future__ import annotations

from datetime import datetime

from .formatting import fmt, has_data, min_heat_text, response

# a service level (SLA compliance, compute availability) at or above this share reads as
# having gone well, below it as not
GOOD_SHARE = 0.99
PARTIAL = 0.999  # a figure covering less of the period than this is marked partial

COVERAGE = {  # figure -> (its coverage key, how the summary names it)
    "heat_delivered_kwh": ("heat_coverage", "heat delivered"),
    "it_energy_kwh": ("it_energy_coverage", "IT energy"),
    "sla_compliance": ("sla_coverage", "the supply temperature SLA"),
    "availability": ("availability_coverage", "compute availability"),
}


def _pct(value: float) -> str:
    return fmt(value, "pct")


def published_text(fig: dict) -> str:
    """Which version this is: a published one and its date, or computed now."""
    version, at = fig.get("published_version"), fig.get("published_at")
    when = f"{datetime.fromisoformat(at):%d %b %Y}" if at else ""
    if fig.get("figures_from") == "published" and version:
        return f"Published version {version}, {when}".strip(", ")
    if version:
        return f"Computed now, not a published version (the latest published is version {version}, {when})"
    return "Computed now; not published yet"


def contract_lines(fig: dict, site) -> list[str]:
    """The period against the contract's terms."""
    currency = fig.get("currency", "")
    heat = fmt(fig.get("heat_delivered_kwh"), "kwh")
    minimum = fmt(fig.get("min_heat_kwh"), "kwh")
    due = "due by now" if fig.get("in_progress") else "contracted"
    lines = [f"Minimum heat: {heat} delivered against {minimum} {due}: {min_heat_text(fig).lstrip('✔✕ ')}."]
    band = f"{site.supply_temp_min_c:g}–{site.supply_temp_max_c:g} °C"
    if fig.get("sla_compliance") is not None:
        lines.append(
            f"Supply temperature: inside the contracted {band} for {_pct(fig['sla_compliance'])} of the "
            f"{fmt(fig.get('sla_hours_called'), 'hours')} heat was called for."
        )
    else:
        lines.append(
            f"Supply temperature: no time with heat called for and a supply temperature known ({band})."
        )
    if fig.get("maintenance_hours") or fig.get("maintenance_allowed_hours"):
        lines.append(
            f"Maintenance: {fmt(fig.get('maintenance_hours'), 'hours')} in windows, "
            f"{fmt(fig.get('maintenance_allowed_hours'), 'hours')} allowed; without the allowed time, "
            f"supply temperature in band {fmt(fig.get('sla_compliance_excl_maintenance'), 'pct')} and compute "
            f"available {fmt(fig.get('availability_excl_maintenance'), 'pct')}."
        )
    lines.append(
        f"Heat revenue: {fmt(fig.get('revenue_total'), 'money', currency)} "
        f"(capacity {fmt(fig.get('revenue_capacity'), 'money', currency)} for "
        f"{site.contracted_capacity_kw:g} kW, energy {fmt(fig.get('revenue_energy'), 'money', currency)})."
    )
    return lines


def summary(fig: dict, site) -> dict:
    """{"well": [...], "not_well": [...], "contract": [...]} in plain sentences."""
    if not has_data(fig):
        return {"well": [], "not_well": ["No data for this period: there are no figures."], "contract": []}
    well, not_well = [], []
    heat, erf = fig.get("heat_delivered_kwh"), fig.get("erf")
    if heat:
        text = f"{fmt(heat, 'kwh')} of heat delivered"
        if erf is not None:
            text += f"; energy reuse factor {fmt(erf, 'ratio')} ({_pct(erf)} of the facility's energy reused)"
        if fig.get("avoided_emissions_kg") is not None:
            text += f", avoiding {fmt(fig['avoided_emissions_kg'], 'kg')}"
        well.append(text + ".")
    elif heat is not None:
        not_well.append("No heat was delivered.")
    if fig.get("min_heat_met") is True:
        well.append(
            "Minimum heat on track." if fig.get("in_progress") else "The contracted minimum heat was met."
        )
    elif fig.get("min_heat_met") is False:
        short = fmt(fig.get("min_heat_shortfall_kwh"), "kwh")
        due = "due by now" if fig.get("in_progress") else "contracted"
        not_well.append(
            f"Minimum heat {'behind' if fig.get('in_progress') else 'not met'}: {fmt(heat, 'kwh')} delivered, "
            f"{short} short of the {fmt(fig.get('min_heat_kwh'), 'kwh')} {due}."
        )
    for key, label in (
        ("sla_compliance", "Supply temperature in band"),
        ("availability", "Compute available"),
    ):
        value = fig.get(key)
        if value is None:
            continue
        text = f"{label} {_pct(value)} of the time" + (
            " heat was called for." if key == "sla_compliance" else "."
        )
        (well if value >= GOOD_SHARE else not_well).append(text)
    answered = response(fig)
    critical = fig.get("alarms_critical") or 0
    if not answered.alarms:
        well.append("No alarms.")
    elif critical:
        not_well.append(f"{critical} critical alarm{'s' if critical != 1 else ''} of {answered.alarms}.")
    if answered.unacknowledged:
        not_well.append(
            f"{answered.unacknowledged} of {answered.alarms} alarms never acknowledged; "
            f"mean time to acknowledge the others {answered.mtta_text.split(' over ')[0]}."
        )
    elif answered.alarms:
        well.append(f"Every alarm acknowledged, on average within {answered.mtta_text}.")
    partial = [label for _k, (cov, label) in COVERAGE.items() if 0 < (fig.get(cov) or 0) < PARTIAL]
    if partial:
        not_well.append("Data missing for part of the period for " + ", ".join(partial) + ".")
    if fig.get("meter_check_flag"):
        not_well.append(
            "The heat meter's register and its power disagree beyond the tolerance: check the meter."
        )
    return {"well": well, "not_well": not_well, "contract": contract_lines(fig, site)}
