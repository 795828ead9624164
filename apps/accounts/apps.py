from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "People and access"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
