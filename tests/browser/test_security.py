"""Security the browser shows, in real headless Chromium against the real stack (Daphne,
the telemetry pump, Redis and InfluxDB, each its own process as deploy/run starts them)."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.points import Point
from heatops.devstack import ADMIN_PASSWORD, stack

PASSWORD = "boiler-room-7-browser"


def _people(s) -> None:
    """rosa, who may see the pool; and an incident there, for its page."""
    s.django_shell(
        "from django.contrib.auth import get_user_model\n"
        "from django.utils import timezone\n"
        "from apps.accounts.models import SiteAccess\n"
        "from apps.alarms import services\n"
        "from apps.alarms.models import AlarmRule\n"
        "from apps.incidents.services import incident_open\n"
        "from apps.sites.models import Site\n"
        f"u = get_user_model().objects.create_user('rosa', password={PASSWORD!r})\n"
        "SiteAccess.objects.create(user=u, site=Site.objects.get(slug='pool'))\n"
        "rule = AlarmRule.objects.filter(site__slug='pool').order_by('pk').first()\n"
        "alarm = services.alarm_raise(rule=rule, value=1.0, detail='for the incident page', now=timezone.now())\n"
        "incident_open(site=rule.site, alarms=[alarm])\n"
    )


@pytest.fixture(scope="module")
def live(services):
    with stack(
        pump=True,
        influx_url=services["influx_url"],
        redis_url=services["redis_url"],
        database="browser_security",
        extra_env={"HEATOPS_PUMP_TICK_S": "0.25"},
        before_start=_people,
    ) as s:
        yield s


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Portfolio")


def it_power(agent: InfluxClient, kw: float) -> None:
    agent.write([Point("facility", {"site": "pool"}, {"it_power_kw": kw}, datetime.now(UTC))])


def test_an_open_site_page_stops_receiving_once_the_access_is_removed(live, browser):
    agent = InfluxClient(url=live.influx_url, database=live.database, retention_policy="heatops")
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    log_in(page, live.web_url, "rosa", PASSWORD)
    page.goto(live.web_url + "/sites/pool/")
    page.wait_for_function("() => document.querySelector('#live-points') !== null")

    it_power(agent, 71.23)
    expect(page.locator("#q-power .number")).to_have_text("71.2 kW", timeout=10_000)

    live.django_shell(
        "from apps.accounts.models import SiteAccess\n"
        "SiteAccess.objects.get(user__username='rosa', site__slug='pool').delete()\n"
    )
    with page.expect_response(
        lambda r: r.request.is_navigation_request() and r.url.endswith("/sites/pool/"), timeout=15_000
    ) as reloaded:
        it_power(agent, 72.34)  # the next update closes the socket instead of reaching the page
    assert reloaded.value.status == 404  # the page reloaded, and the site is no longer there for rosa
    assert any("71.2 kW" in f for f in frames)
    assert not any("72.3 kW" in f for f in frames)
    expect(page.locator("body")).not_to_contain_text(re.compile("72.3 kW"))


def _violations(context) -> list[str]:
    """Every Content-Security-Policy violation on any page of ``context``, as it happens."""
    found: list[str] = []
    context.expose_function("reportCspViolation", lambda text: found.append(text))
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => {"
        " const text = location.pathname + ': ' + e.violatedDirective + ' blocked ' + e.blockedURI"
        " + ' ' + (e.sample || ''); (window.cspViolations = window.cspViolations || []).push(text);"
        " window.reportCspViolation(text); });"
    )
    return found


def _pages(now) -> list[tuple[str, str | None]]:
    """Every kind of page, with what shows it has drawn (charts under the policy)."""
    month = f"{now.year:04d}-{now.month:02d}"
    return [
        ("/", "#tile-pool"),
        ("/sites/pool/", "#chart-power .main-svg"),
        ("/alarms/", "h1"),
        ("/alarms/1/", "main .alarm"),
        ("/incidents/", "h1"),
        ("/incidents/1/", "#correlation .main-svg"),
        ("/sites/pool/raci/", "h1"),
        ("/sites/pool/audit/", "h1"),
        ("/reports/", "h1"),
        (f"/reports/pool/{month}/", "#chart-daily .main-svg"),
        ("/admin/", "#content"),
        ("/admin/alarms/alarmrule/", "#result_list"),
        ("/admin/alarms/alarmrule/1/change/", "#alarmrule_form"),
        ("/admin/assets/asset/add/", "#asset_form"),
    ]


def test_every_page_runs_under_the_content_security_policy(live, browser, now):
    """Each page carries the policy and not one script, style, image, socket or form on it
    breaks it: the charts draw, the live socket opens, the month picker works."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    violations = _violations(context)
    console: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    log_in(page, live.web_url, "admin", ADMIN_PASSWORD)
    for path, drawn in _pages(now):
        response = page.goto(live.web_url + path)
        assert response.status == 200, path
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        try:
            page.wait_for_selector(drawn, timeout=15_000)
        except Exception as exc:
            page.screenshot(path=f"artifacts/csp-{path.strip('/').replace('/', '-') or 'root'}.png")
            raise AssertionError(f"{path}: {drawn} never showed; {violations} {console}") from exc
        if path == "/sites/pool/":
            expect(page.locator("#connection")).to_be_hidden()  # the websocket is open
        page.wait_for_load_state("networkidle")
    page.goto(live.web_url + f"/reports/pool/{now.year:04d}-{now.month:02d}/")
    page.fill("input[name=month]", "2024-02")
    page.click(".month-picker button[type=submit]")
    expect(page).to_have_url(re.compile(r"/reports/pool/2024-02/$"))
    assert violations == [] and console == []


def test_an_injected_inline_script_does_not_run(live, browser):
    context = browser.new_context()
    _violations(context)
    page = context.new_page()
    log_in(page, live.web_url, "rosa", PASSWORD)
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.pwned") is None
    page.wait_for_function("() => (window.cspViolations || []).length > 0")
    assert any("script-src" in v for v in page.evaluate("() => window.cspViolations"))


def test_static_files_carry_the_same_security_headers(live):
    for path in ("/static/css/heatops.css", "/static/js/live.js", "/accounts/login/"):
        with urllib.request.urlopen(live.web_url + path) as response:
            headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["X-Frame-Options"] == "DENY", path
