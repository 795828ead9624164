"""Names and notes holding HTML do not run as script in a real browser: the site page (live
fragments over the websocket, charts), the incident page (Plotly annotations carry alarm
titles), the portfolio and the alarm list. Chromium runs once as shipped and once told to
ignore the Content-Security-Policy (``bypass_csp``), so it is the escaping that is
checked, not only the policy that would stop an injected script anyway."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.points import Point
from heatops.devstack import ADMIN_PASSWORD, stack

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


def _names_with_html(s) -> None:
    s.django_shell(
        "from django.utils import timezone\n"
        "from apps.alarms import services\n"
        "from apps.alarms.models import AlarmRule\n"
        "from apps.assets.models import Asset\n"
        "from apps.incidents.services import incident_note, incident_open\n"
        "from apps.sites.models import Site\n"
        "from django.contrib.auth import get_user_model\n"
        f"S, A = {SCRIPT!r}, {ATTRIBUTE!r}\n"
        "site = Site.objects.get(slug='pool')\n"
        "site.name = 'Pool ' + S + A\n"
        "site.save()\n"
        "for asset in Asset.objects.filter(site=site)[:3]:\n"
        "    asset.name = asset.name[:40] + ' ' + A\n"
        "    asset.save()\n"
        "rule = AlarmRule.objects.filter(site=site).order_by('pk').first()\n"
        "rule.name = 'Rule ' + S + A\n"
        "rule.save()\n"
        "alarm = services.alarm_raise(rule=rule, value=1.0, detail=S + A, now=timezone.now())\n"
        "alarm.title = 'Alarm ' + S + A\n"
        "alarm.save()\n"
        "admin = get_user_model().objects.get(username='admin')\n"
        "services.alarm_acknowledge(alarm=alarm, user=admin, note='note ' + S + A)\n"
        "incident = incident_open(site=site, alarms=[alarm], title='Incident ' + S + A)\n"
        "incident_note(incident=incident, user=admin, text='seen ' + S + A)\n"
    )


@pytest.fixture(scope="module")
def live(services):
    with stack(
        pump=True,
        influx_url=services["influx_url"],
        redis_url=services["redis_url"],
        database="browser_escaping",
        extra_env={"HEATOPS_PUMP_TICK_S": "0.25"},
        before_start=_names_with_html,
    ) as s:
        yield s


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["as-shipped", "without-csp"])
def test_no_name_or_note_runs_as_script_on_any_page(live, browser, bypass_csp):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, bypass_csp=bypass_csp)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(live.web_url + "/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Portfolio")

    agent = InfluxClient(url=live.influx_url, database=live.database, retention_policy="heatops")
    agent.write(
        [
            Point(
                "facility", {"site": "pool"}, {"it_power_kw": 51.5, "total_power_kw": 55.0}, datetime.now(UTC)
            )
        ]
    )
    expect(page.locator("#tile-pool")).to_contain_text("51.5 kW", timeout=10_000)  # a live fragment came
    expect(page.locator("#tile-pool")).to_contain_text(SCRIPT)  # shown as text

    page.goto(live.web_url + "/sites/pool/")
    expect(page.locator("h1")).to_contain_text(SCRIPT)
    page.wait_for_selector("#chart-power .main-svg")
    agent.write(
        [
            Point(
                "facility", {"site": "pool"}, {"it_power_kw": 52.5, "total_power_kw": 55.0}, datetime.now(UTC)
            )
        ]
    )
    expect(page.locator("#q-power .number")).to_have_text("52.5 kW", timeout=10_000)

    page.goto(live.web_url + "/incidents/")
    page.locator("a", has_text="Incident " + SCRIPT).first.click()
    expect(page.locator("h1")).to_contain_text(SCRIPT)
    page.wait_for_selector("#correlation .main-svg")
    expect(page.locator("#correlation .annotation-text", has_text="Alarm ")).to_have_count(1)

    for path in ("/alarms/", "/runbooks/", "/reports/"):
        page.goto(live.web_url + path)
    page.wait_for_timeout(500)  # a last chance for anything injected to fire
    assert dialogs == []
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    context.close()
