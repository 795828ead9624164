import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.accounts.choices import Role
from apps.accounts.services import site_access_grant
from apps.alarms.defaults import alarm_rules_create_defaults
from apps.alarms.services import on_call_add
from apps.business.demo import demo_business_cases
from apps.drills.demo import demo_drills
from apps.ownership.choices import Area, Raci
from apps.ownership.demo import seed_demo_rotation
from apps.ownership.services import raci_replace
from apps.runbooks.library import runbooks_seed

from ...maintenance import seed_demo_maintenance
from ...sites import seed_demo_sites

# The demo's people: (username, first name, last name, role at both demo sites).
DEMO_PEOPLE = {
    "estates": ("eve", "Eve", "Hart", Role.ESTATES),
    "oncall": ("sam", "Sam", "Patel", Role.DEVOPS),
    "second": ("alex", "Alex", "Kim", Role.DEVOPS),
    "manager": ("morgan", "Morgan", "Reid", Role.MANAGER),
}


class Command(BaseCommand):
    help = "Create or update the demo sites, their assets and the demo admin login (safe to repeat)."

    def add_arguments(self, parser):
        parser.add_argument("--no-admin", action="store_true", help="Do not create the demo admin login.")

    def handle(self, *args, no_admin=False, **options):
        sites = seed_demo_sites()
        self.stdout.write(f"runbooks: {runbooks_seed()} new")
        for site in sites:
            created = alarm_rules_create_defaults(site=site)
            self.stdout.write(
                f"demo site: {site.name} ({site.slug}), {site.assets.count()} assets, "
                f"{site.alarm_rules.count()} alarm rules ({len(created)} new)"
            )
        if not no_admin:
            username, password = self._demo_admin()
            admin = get_user_model().objects.get(username=username)
            people, people_password = self._demo_people(sites)
            for site in sites:
                on_call_add(site=site, user=admin, level=1)  # without RACI: the admin
                if not site.raci.exists():
                    raci_replace(site=site, grid=self._demo_raci(people, admin), reason="demo seed")
            self.stdout.write(f"maintenance: {seed_demo_maintenance(sites, people)}")
            backfill_days = float(os.environ.get("HEATOPS_BACKFILL_DAYS") or 7)
            manager = people["manager"][0]
            self.stdout.write(demo_business_cases(sites, user=manager, backfill_days=backfill_days))
            devops = [people["oncall"][0], people["second"][0]]
            self.stdout.write(f"on call: {seed_demo_rotation(sites, devops, now=timezone.now())}")
            self.stdout.write(demo_drills(sites, user=people["estates"][0]))
            self.stdout.write(self.style.SUCCESS(f"demo admin login: {username} / {password}"))
            logins = ", ".join(f"{u.username} ({role.label})" for u, role in people.values())
            self.stdout.write(self.style.SUCCESS(f"demo logins, password {people_password}: {logins}"))

    def _demo_people(self, sites) -> tuple[dict, str]:
        """A person for each role, with access to both demo sites, so the demo shows what
        each sees and an unacknowledged alarm escalates from one person to the next."""
        store = settings.VAR_DIR / "demo-users-password"
        if store.exists():
            password = store.read_text().strip()
        else:
            password = secrets.token_urlsafe(9)
            store.parent.mkdir(parents=True, exist_ok=True)
            store.write_text(password + "\n")
            store.chmod(0o600)
        people = {}
        for key, (username, first, last, role) in DEMO_PEOPLE.items():
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.email = f"{username}@heatops.localhost"
            user.set_password(password)
            user.save()
            for site in sites:
                site_access_grant(user=user, site=site, role=role)
            people[key] = (user, role)
        return people, password

    @staticmethod
    def _demo_raci(people, admin) -> dict:
        """Who owns what at a demo site: DevOps on-call answers alarms and compute (the
        second on-call is consulted), estates the plant, the manager is accountable for it
        all and responsible for the contract; so an alarm nobody acknowledges goes from the
        on-call person to the manager."""
        oncall, second, estates, manager = (
            f"u:{people[k][0].pk}" for k in ("oncall", "second", "estates", "manager")
        )
        R, A, C, informed = Raci.RESPONSIBLE, Raci.ACCOUNTABLE, Raci.CONSULTED, Raci.INFORMED
        return {
            Area.ALARM_RESPONSE: {R: [oncall], A: [manager], C: [second], informed: [estates]},
            Area.COMPUTE: {R: [oncall], A: [manager], C: [second]},
            Area.THERMAL: {R: [estates], A: [manager], C: [oncall]},
            Area.MAINTENANCE: {R: [estates], A: [manager]},
            Area.SAFETY: {R: [estates], A: [manager], informed: [oncall]},
            Area.CONTRACT: {R: [manager], A: [f"u:{admin.pk}"], informed: [estates]},
        }

    def _demo_admin(self) -> tuple[str, str]:
        """The demo admin; its password comes from HEATOPS_ADMIN_PASSWORD or is made once
        and kept in var/demo-admin-password so every run prints the same one."""
        username = os.environ.get("HEATOPS_ADMIN_USER", "admin")
        password = os.environ.get("HEATOPS_ADMIN_PASSWORD")
        store = settings.VAR_DIR / "demo-admin-password"
        if not password:
            if store.exists():
                password = store.read_text().strip()
            else:
                password = secrets.token_urlsafe(12)
                store.parent.mkdir(parents=True, exist_ok=True)
                store.write_text(password + "\n")
                store.chmod(0o600)
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.email = user.email or f"{username}@heatops.localhost"
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return username, password
