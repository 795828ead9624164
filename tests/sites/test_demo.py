from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.accounts.models import SiteAccess
from apps.assets.models import Asset
from apps.ownership.services import escalation_chain
from apps.sites.models import Site

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_pool_and_the_school_and_is_repeatable(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = (Site.objects.count(), Asset.objects.count())
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert set(Site.objects.values_list("slug", flat=True)) == {"pool", "school"}
    assert (Site.objects.count(), Asset.objects.count()) == counts
    pool = Site.objects.get(slug="pool")
    kinds = set(pool.assets.values_list("kind", flat=True))
    assert {
        "rack",
        "node",
        "pdu",
        "pump",
        "heat_exchanger",
        "buffer_tank",
        "heat_meter",
        "dry_cooler",
    } <= kinds
    assert Site.objects.get(slug="school").assets.filter(kind="heat_pump").exists()

    # the same printed login works both times
    password = first.split("demo admin login: admin / ")[1].split()[0]
    assert f"admin / {password}" in second
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_the_demo_has_a_person_for_each_role_and_an_escalation_from_one_to_the_next(
    settings, tmp_path, capsys, now
):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    out = capsys.readouterr().out
    line = out.split("demo logins, password ")[1].splitlines()[0]
    password = line.split(":")[0]
    assert (
        "eve (Estates / facilities)" in line and "sam (DevOps on-call)" in line and "morgan (Manager)" in line
    )
    users = get_user_model().objects
    assert all(users.get(username=u).check_password(password) for u in ("eve", "sam", "alex", "morgan"))
    pool = Site.objects.get(slug="pool")
    roles = dict(SiteAccess.objects.filter(site=pool).values_list("user__username", "role"))
    assert roles == {"eve": "estates", "sam": "devops", "alex": "devops", "morgan": "manager"}

    def chain(domain, at=now):
        return [[u.username for u in level] for level in escalation_chain(pool, domain, now=at)]

    # DevOps on-call is a weekly rotation, Sam's week first: whoever is on call, then the Accountable
    assert chain("network") == [["sam"], ["morgan"]]
    assert chain("compute", now + timedelta(weeks=1)) == [["alex"], ["morgan"]]
    assert chain("thermal") == [["eve"], ["morgan"]]
    assert "on call: DevOps on-call (weekly): sam then alex, Mondays 09:00 Europe/London (new)" in out


def test_influx_setup_creates_the_database_with_its_retention_policy(influx, capsys):
    influx.drop_database()
    call_command("influx_setup")
    assert f"database '{influx.database}'" in capsys.readouterr().out
    policies = {
        row["name"]: row["default"]
        for s in influx.select(f'SHOW RETENTION POLICIES ON "{influx.database}"')
        for row in s.rows()
    }
    assert policies["heatops"] is True
