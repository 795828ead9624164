from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "apps.assets"
    verbose_name = "Assets"
