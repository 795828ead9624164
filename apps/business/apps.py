from django.apps import AppConfig


class BusinessConfig(AppConfig):
    name = "apps.business"
    verbose_name = "Business case"
