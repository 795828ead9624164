"""Formatting shared by every copy of a report (page, PDF, email, summary): figures with
their units, coverage, and the judgements made of them."""

from __future__ import annotations

from datetime import datetime

from apps.alarms.selectors import ResponseTimes, duration_text


def _unsigned_zero(text: str) -> str:
    """'-0.00 %' (a tiny negative rounded away) reads as '0.00 %'."""
    if text[:1] in "+-" and not any(c in "123456789" for c in text):
        return text[1:]
    return text


def fmt(value, kind: str, currency: str = "") -> str:
    """A figure as the page, the PDF and the email show it; '—' where there is no data."""
    return _unsigned_zero(_fmt(value, kind, currency))


def _fmt(value, kind: str, currency: str = "") -> str:
    if value is None:
        return "—"
    if kind == "kwh":
        return f"{value:,.0f} kWh" if abs(value) >= 100 else f"{value:,.1f} kWh"
    if kind == "kg":
        return f"{value:,.0f} kg CO₂e" if abs(value) >= 100 else f"{value:,.1f} kg CO₂e"
    if kind == "pct":
        return f"{100 * value:.1f} %"
    if kind == "ratio":
        return f"{value:.3f}"
    if kind == "money":
        return f"{currency} {value:,.2f}".strip()
    if kind == "hours":
        return f"{value:,.1f} h"
    if kind == "seconds":
        return duration_text(value)
    if kind == "signed_pct":
        return f"{100 * value:+.2f} %"
    return str(value)


def coverage_text(value: float | None, fig: dict | None = None) -> str:
    if not value:
        return "no data"
    text = f"{100 * value:.1f} % of the time"
    return text + " so far" if fig and fig.get("in_progress") else text


def has_data(fig: dict) -> bool:
    """Whether a period has any data (a snapshot published before this was recorded: any
    coverage above zero)."""
    if "has_data" in fig:
        return bool(fig["has_data"])
    return any((v or 0) > 0 for k, v in fig.items() if k.endswith("_coverage"))


def in_progress_text(fig: dict) -> str:
    until = datetime.fromisoformat(fig["until"])
    return (
        f"This period is in progress: every figure covers it up to {until:%d %b %Y %H:%M} UTC "
        f"({fig['hours_elapsed']:,.1f} of {fig['hours']:,.0f} hours), and is judged against that time."
    )


def min_heat_text(fig: dict) -> str:
    """The contracted minimum, judged: met or not over a period that is over, on track or
    behind by so much over the time elapsed of one in progress."""
    met = fig.get("min_heat_met")
    if met is None or not has_data(fig):
        return "—"
    if fig.get("in_progress"):
        if met:
            return "✔ on track"
        return f"✕ behind by {fmt(fig.get('min_heat_shortfall_kwh'), 'kwh')}"
    return "✔ met" if met else "✕ not met"


def response(fig: dict) -> ResponseTimes:
    """The period's alarm response, from its figures (a snapshot published before seconds
    were kept: from its minutes)."""

    def seconds(key: str):
        if fig.get(f"{key}_s") is not None:
            return fig[f"{key}_s"]
        return fig[f"{key}_min"] * 60 if fig.get(f"{key}_min") is not None else None

    total = fig.get("alarms_total") or 0
    mtta, mttr = seconds("mtta"), seconds("mttr")
    return ResponseTimes(
        alarms=total,
        acknowledged=fig.get("alarms_acknowledged", total if mtta is not None else 0),
        mtta_s=mtta,
        resolved=fig.get("alarms_resolved", total if mttr is not None else 0),
        mttr_s=mttr,
    )


def mtta_short(fig: dict) -> str:
    """The mean time to acknowledge for a table cell, with the alarms never acknowledged."""
    answered = response(fig)
    text = duration_text(answered.mtta_s)
    return f"{text} ({answered.unacknowledged} unacknowledged)" if answered.unacknowledged else text
