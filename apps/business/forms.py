"""The plan's form: start month, capex items one per line, and each scenario's yearly figures."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms

from .choices import SCENARIO_FIELDS, ScenarioKind
from .services import Capex

CAPEX_LINE = re.compile(r"^\s*(\d{4})-(\d{2})\s*;\s*(.+?)\s*;\s*([0-9][0-9,]*(?:\.\d+)?)\s*$")


def month_value(text: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise forms.ValidationError("Give a month such as 2026-10.")
    return date(int(match[1]), int(match[2]), 1)


def capex_text(case) -> str:
    return (
        "\n".join(f"{c.month:%Y-%m}; {c.description}; {c.amount}" for c in case.capex_items.all())
        if case
        else ""
    )


class BusinessCaseForm(forms.Form):
    start = forms.CharField(
        label="First month of operation", widget=forms.TextInput(attrs={"type": "month"}), max_length=7
    )
    avoided_fuel_in_cash_flow = forms.BooleanField(
        required=False, label="Count avoided fuel in the cash flow (the heat's user owns the plant)"
    )
    capex = forms.CharField(
        required=False,
        label="Capex items",
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "2026-09; heat exchanger and pipework; 85000"}
        ),
        help_text="One per line: month; what; amount.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(max_length=300, help_text="Why the plan changes (kept in the audit log).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in ScenarioKind.choices:
            for name, (what, unit) in SCENARIO_FIELDS.items():
                self.fields[f"{kind}-{name}"] = forms.DecimalField(
                    label=f"{label}: {what}" + ("" if unit in ("money", "share") else f" ({unit})"),
                    min_value=0,
                    max_value=1 if unit == "share" else Decimal("1e12"),
                    decimal_places=4 if unit == "share" else 2,
                    required=False,
                )

    @classmethod
    def initial_for(cls, case) -> dict:
        if case is None:
            return {}
        initial = {
            "start": f"{case.start:%Y-%m}",
            "avoided_fuel_in_cash_flow": case.avoided_fuel_in_cash_flow,
            "capex": capex_text(case),
            "notes": case.notes,
        }
        for s in case.scenarios.all():
            for name in SCENARIO_FIELDS:
                initial[f"{s.kind}-{name}"] = getattr(s, name)
        return initial

    def clean_start(self) -> date:
        return month_value(self.cleaned_data["start"])

    def clean_capex(self) -> list[Capex]:
        items = []
        for number, line in enumerate(self.cleaned_data["capex"].splitlines(), start=1):
            if not line.strip():
                continue
            match = CAPEX_LINE.match(line)
            if not match or not 1 <= int(match[2]) <= 12:
                raise forms.ValidationError(f"Line {number}: write it as 2026-09; what; amount.")
            try:
                amount = Decimal(match[4].replace(",", ""))
            except InvalidOperation as exc:
                raise forms.ValidationError(f"Line {number}: {match[4]} is not an amount.") from exc
            items.append(Capex(match[3], amount, date(int(match[1]), int(match[2]), 1)))
        return items

    def scenarios(self) -> dict[str, dict]:
        """The scenarios with any figure given; figures left empty are 0 (uptime: 0.99)."""
        out = {}
        for kind in ScenarioKind.values:
            values = {name: self.cleaned_data.get(f"{kind}-{name}") for name in SCENARIO_FIELDS}
            if all(v is None for v in values.values()):
                continue
            out[kind] = {
                name: (v if v is not None else (Decimal("0.99") if name == "uptime" else Decimal(0)))
                for name, v in values.items()
            }
            for name, (_what, unit) in SCENARIO_FIELDS.items():
                if unit != "money":
                    out[kind][name] = float(out[kind][name])
        return out
