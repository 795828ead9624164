from __future__ import annotations

from django.utils import timezone

from heatops.tokens import token_digest, token_new, token_well_formed

from .models import PersonalToken, SiteAccess

PREFIX = "hopsu_"


def personal_token_issue(*, user, name: str) -> tuple[PersonalToken, str]:
    new = token_new(PREFIX)
    token = PersonalToken.objects.create(user=user, name=name, prefix=new.prefix, key_hash=new.digest)
    return token, new.raw


def personal_token_user(*, raw: str):
    """The active user behind a personal token, or None."""
    if not token_well_formed(raw, PREFIX):
        return None
    token = (
        PersonalToken.objects.select_related("user")
        .filter(key_hash=token_digest(raw), revoked_at=None)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    PersonalToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def personal_token_revoke(*, token: PersonalToken) -> None:
    PersonalToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())


def site_access_grant(*, user, site, role: str) -> SiteAccess:
    """Give ``user`` ``role`` at ``site`` (replacing the role they had there)."""
    access, _ = SiteAccess.objects.update_or_create(user=user, site=site, defaults={"role": role})
    return access
