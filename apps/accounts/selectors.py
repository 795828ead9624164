"""Which sites a person may see: the one rule every page, websocket and API applies."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404

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


def request_sites(request) -> list[Site]:
    """The sites the request's person may see, read once per request: the nav (through the
    ``visible_sites`` context processor) and the page share the one list."""
    try:
        return request._heatops_visible_sites
    except AttributeError:
        request._heatops_visible_sites = list(sites_visible_to(request.user))
        return request._heatops_visible_sites


def site_visible_or_404(user, slug: str) -> Site:
    """The site ``slug`` if ``user`` may see it; otherwise 404, the same answer whether it
    does not exist or is not theirs."""
    site = site_visible_to(user, slug)
    if site is None:
        raise Http404("No such site")
    return site


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
