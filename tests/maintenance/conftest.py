from __future__ import annotations

import pytest

from apps.accounts.models import SiteAccess
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule, OnCall
from apps.ownership.choices import Area, Raci
from apps.ownership.models import Assignment


@pytest.fixture
def pool(demo_sites):
    return demo_sites["pool"]


@pytest.fixture
def pump(pool):
    return pool.assets.get(slug="pump-primary")


@pytest.fixture
def people(pool, django_user_model):
    """eve (estates, maintenance Responsible), sam (on call, level 1), morgan (manager)."""
    out = {}
    for name, role in [("eve", "estates"), ("sam", "devops"), ("morgan", "manager")]:
        out[name] = django_user_model.objects.create_user(
            name, email=f"{name}@example.org", first_name=name.title()
        )
        SiteAccess.objects.create(user=out[name], site=pool, role=role)
    OnCall.objects.create(site=pool, user=out["sam"], level=1)
    OnCall.objects.create(site=pool, user=out["morgan"], level=2)
    Assignment.objects.create(site=pool, area=Area.MAINTENANCE, role=Raci.RESPONSIBLE, user=out["eve"])
    Assignment.objects.create(site=pool, area=Area.MAINTENANCE, role=Raci.ACCOUNTABLE, user=out["morgan"])
    return out


@pytest.fixture
def pump_rule(pool, pump):
    """The pump's flow rule (the default rule names the pump as its asset)."""
    return AlarmRule.objects.create(
        site=pool,
        asset=pump,
        name="Flow lost",
        kind=RuleKind.BELOW,
        severity="critical",
        domain="thermal",
        meaning="Water has stopped.",
        measurement="loop",
        field="flow_m3h",
        tags={"loop": "primary"},
        threshold=1.5,
        ack_timeout_min=15,
        max_escalations=2,
    )


@pytest.fixture
def site_rule(pool):
    """A rule of no asset: only a site-wide window covers it."""
    return AlarmRule.objects.create(
        site=pool,
        name="Telemetry missing",
        kind=RuleKind.STALE,
        severity="major",
        domain="network",
        meaning="No data.",
        measurement="facility",
        field="it_power_kw",
        stale_after_s=120,
    )
