"""What each role may do at a site: one table, applied by every view, websocket and API.

Everyone with access to a site sees all of it. Changes depend on the role:
- estates: act on alarms and incidents; edit thermal, electrical and safety rules; plan
  maintenance windows, keep the maintenance log and work orders; run commissioning drills;
- devops on-call: act on alarms and incidents; edit compute and network rules;
- manager: reads everything, changes nothing operational; plans the site's business case
  and publishes its monthly report;
- site administrator (and superusers everywhere): everything, including ownership.
DevOps and managers read maintenance windows, the log and work orders.
"""

from __future__ import annotations

from .choices import Role
from .models import SiteAccess

ACT_ON_ALARMS = "act_on_alarms"
ACT_ON_INCIDENTS = "act_on_incidents"
EDIT_RULES = "edit_rules"
EDIT_OWNERSHIP = "edit_ownership"
MAINTAIN = "maintain"  # maintenance windows, the maintenance log, work orders
EDIT_BUSINESS_CASE = "edit_business_case"  # the site's business case (capex, opex, scenarios)
PUBLISH_REPORTS = "publish_reports"  # publish a new version of the site's report ("Publish now")
RUN_DRILLS = "run_drills"  # commissioning drills: start, stop, tick by hand

ALLOWED = {
    Role.ESTATES: {ACT_ON_ALARMS, ACT_ON_INCIDENTS, EDIT_RULES, MAINTAIN, RUN_DRILLS},
    Role.DEVOPS: {ACT_ON_ALARMS, ACT_ON_INCIDENTS, EDIT_RULES},
    Role.MANAGER: {EDIT_BUSINESS_CASE, PUBLISH_REPORTS},
    Role.ADMIN: {
        ACT_ON_ALARMS,
        ACT_ON_INCIDENTS,
        EDIT_RULES,
        EDIT_OWNERSHIP,
        MAINTAIN,
        EDIT_BUSINESS_CASE,
        PUBLISH_REPORTS,
        RUN_DRILLS,
    },
}
RULE_DOMAINS = {
    Role.ESTATES: {"thermal", "electrical", "safety"},
    Role.DEVOPS: {"compute", "network"},
    Role.ADMIN: {"compute", "network", "thermal", "electrical", "safety"},
}


def role_at(user, site) -> str | None:
    if not user or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return SiteAccess.objects.filter(user=user, site=site).values_list("role", flat=True).first()


def can(user, action: str, site, *, domain: str | None = None) -> bool:
    role = role_at(user, site)
    if role is None or action not in ALLOWED.get(role, set()):
        return False
    if action == EDIT_RULES and domain is not None:
        return domain in RULE_DOMAINS.get(role, set())
    return True
