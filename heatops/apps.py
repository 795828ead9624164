"""The admin with heatops' own site (heatops/admin.py): every admin scoped to the
person's sites. Listed in INSTALLED_APPS in place of django.contrib.admin."""

from django.contrib.admin.apps import AdminConfig


class HeatopsAdminConfig(AdminConfig):
    default_site = "heatops.admin.HeatopsAdminSite"
