import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.alarms.defaults import alarm_rules_create_defaults
from apps.alarms.models import OnCall
from apps.incidents.library import seed_runbooks
from apps.ownership.choices import Area, Raci
from apps.ownership.services import raci_replace
from apps.sites.demo import seed_demo_sites


class Command(BaseCommand):
    help = "Create or update the demo sites, their assets and the demo admin login (safe to repeat)."

    def add_arguments(self, parser):
        parser.add_argument("--no-admin", action="store_true", help="Do not create the demo admin login.")

    def handle(self, *args, no_admin=False, **options):
        sites = seed_demo_sites()
        for site in sites:
            created = alarm_rules_create_defaults(site=site)
            self.stdout.write(
                f"demo site: {site.name} ({site.slug}), {site.assets.count()} assets, "
                f"{site.alarm_rules.count()} alarm rules ({len(created)} new)"
            )
        self.stdout.write(f"runbooks: {seed_runbooks()} new, linked to the alarm rules that name them")
        if not no_admin:
            username, password = self._demo_admin()
            admin = get_user_model().objects.get(username=username)
            for site in sites:  # the demo admin owns every area of the demo sites
                OnCall.objects.get_or_create(site=site, user=admin, level=1)
                if not site.raci.exists():
                    grid = {
                        area: {Raci.RESPONSIBLE: [f"u:{admin.pk}"], Raci.ACCOUNTABLE: [f"u:{admin.pk}"]}
                        for area in Area.values
                    }
                    raci_replace(site=site, grid=grid)
            self.stdout.write(self.style.SUCCESS(f"demo admin login: {username} / {password}"))

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
