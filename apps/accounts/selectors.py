"""Which sites a person may see: the one rule every page, websocket and API applies."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

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


def people_with_access(site: Site | int):
    """The active people who may see ``site`` (its SiteAccess holders and superusers): the
    only people its RACI matrix, on-call list and incident reviews offer, accept and notify."""
    site_id = site.pk if isinstance(site, Site) else site
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(site_access__site_id=site_id))
        .distinct()
        .order_by("username")
    )
