"""The maintenance page's forms. Times are entered in the site's own time zone."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django import forms
from django.utils import timezone

from .choices import LogKind
from .selectors import maintenance_people


def _person_choices(site) -> list:
    first, others = maintenance_people(site)  # RACI's maintenance area first
    name = lambda u: u.get_full_name() or u.username  # noqa: E731
    choices = []
    if first:
        choices.append(("Maintenance (RACI)", [(u.pk, name(u)) for u in first]))
    if others:
        choices.append(("Others with access", [(u.pk, name(u)) for u in others]))
    return choices


class SiteForm(forms.Form):
    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site
        self.tz = zoneinfo.ZoneInfo(site.timezone)
        if "asset" in self.fields:
            self.fields["asset"].choices = [("", "The whole site")] + [
                (a.pk, a.name) for a in site.assets.filter(is_active=True).order_by("name")
            ]

    def full_clean(self):
        with timezone.override(self.tz):  # times typed are the site's local times
            super().full_clean()

    def local(self, value: datetime) -> datetime:
        return value.replace(tzinfo=self.tz) if value.tzinfo is None else value

    def clean_asset(self):
        pk = self.cleaned_data.get("asset")
        return self.site.assets.filter(pk=pk).first() if pk else None


LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class WindowForm(SiteForm):
    reason = forms.CharField(
        max_length=200, help_text="What is done: pump service, server swap, water treatment."
    )
    asset = forms.ChoiceField(required=False)
    owner = forms.TypedChoiceField(coerce=int)
    planned_start = forms.DateTimeField(widget=LOCAL)
    planned_end = forms.DateTimeField(widget=LOCAL)

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, site=site, **kwargs)
        self.fields["owner"].choices = _person_choices(site)

    def clean_planned_start(self):
        return self.local(self.cleaned_data["planned_start"])

    def clean_planned_end(self):
        return self.local(self.cleaned_data["planned_end"])


class LogEntryForm(SiteForm):
    kind = forms.ChoiceField(choices=LogKind.choices)
    asset = forms.ChoiceField(required=False)
    performed_by = forms.TypedChoiceField(coerce=int, label="Who")
    performed_at = forms.DateTimeField(widget=LOCAL, label="When")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    readings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "pH = 7.4\nfree chlorine mg/l = 1.2"}),
        required=False,
        help_text="Optional, one per line: name = number.",
    )

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, site=site, **kwargs)
        self.fields["performed_by"].choices = _person_choices(site)

    def clean_performed_at(self):
        return self.local(self.cleaned_data["performed_at"])


class WorkOrderForm(SiteForm):
    title = forms.CharField(max_length=200)
    asset = forms.ChoiceField(required=False)
    assignee = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    due = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    alarm = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, site=site, **kwargs)
        first, _ = maintenance_people(site)
        self.fields["assignee"].choices = [("", "Nobody yet")] + [
            (u.pk, u.get_full_name() or u.username) for u in first
        ]
