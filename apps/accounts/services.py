from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from .models import PersonalToken

PREFIX = "hopsu_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def personal_token_issue(*, user, name: str) -> tuple[PersonalToken, str]:
    raw = PREFIX + secrets.token_urlsafe(32)
    token = PersonalToken.objects.create(
        user=user, name=name, prefix=raw[: len(PREFIX) + 6], key_hash=_hash(raw)
    )
    return token, raw


def personal_token_user(*, raw: str):
    """The active user behind a personal token, or None."""
    if not raw.startswith(PREFIX):
        return None
    token = PersonalToken.objects.select_related("user").filter(key_hash=_hash(raw), revoked_at=None).first()
    if token is None or not token.user.is_active:
        return None
    PersonalToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def personal_token_revoke(*, token: PersonalToken) -> None:
    PersonalToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
