from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IngestConfig(AppConfig):
    name = "apps.ingest"
    verbose_name = "Ingest"

    def ready(self) -> None:
        from apps.sites.models import Site

        from . import token_cache
        from .models import IngestToken

        # a revoked token or a deactivated site is refused from its next request, in every process
        for model in (IngestToken, Site):
            post_save.connect(
                token_cache.tokens_changed, sender=model, dispatch_uid=f"ingest-tokens-{model.__name__}"
            )
            post_delete.connect(
                token_cache.tokens_changed, sender=model, dispatch_uid=f"ingest-tokens-del-{model.__name__}"
            )
