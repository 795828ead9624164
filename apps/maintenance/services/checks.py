"""Checks every maintenance change makes of what it is given."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.accounts.selectors import people_with_access
from apps.assets.models import Asset
from apps.sites.models import Site


def check_asset(site: Site, asset: Asset | None) -> None:
    if asset is not None and asset.site_id != site.pk:
        raise ValidationError("That asset belongs to another site.")


def check_person(site: Site, user, what: str) -> None:
    if user is None or not people_with_access(site).filter(pk=user.pk).exists():
        raise ValidationError(f"The {what} must be a person with access to {site.name}.")


def check_same_site(site: Site, obj, what: str) -> None:
    if obj is not None and obj.site_id != site.pk:
        raise ValidationError(f"That {what} belongs to another site.")


def creator(user):
    """Who is recorded as having created a row (nobody for the system)."""
    return user if user and user.is_authenticated else None
