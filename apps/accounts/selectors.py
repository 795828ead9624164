"""Which sites a person may see: the one rule every page, websocket and API applies."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.sites.models import Site


def sites_visible_to(user) -> QuerySet[Site]:
    if not user or not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    sites = Site.objects.filter(is_active=True)
    if user.is_superuser:
        return sites
    return sites.filter(access__user=user)


def site_visible_to(user, slug: str) -> Site | None:
    return sites_visible_to(user).filter(slug=slug).first()
