"""What changes a person's access, recorded for their open websockets (access.py).

Recorded once the change is committed: a socket closed earlier could reconnect while the
old access still stands in the database and keep it. ``QuerySet.update()`` sends no
signals: change users and site access one by one (as the admin does).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .access import access_changed, session_ended
from .models import SiteAccess

User = get_user_model()
_WATCHED = ("is_active", "is_superuser", "password")


def _changed_on_commit(user_id: int) -> None:
    transaction.on_commit(lambda: access_changed(user_id=user_id))


@receiver(post_save, sender=SiteAccess, dispatch_uid="access_site_access_saved")
@receiver(post_delete, sender=SiteAccess, dispatch_uid="access_site_access_deleted")
def site_access_changed(sender, instance: SiteAccess, **kwargs) -> None:
    _changed_on_commit(instance.user_id)


@receiver(pre_save, sender=User, dispatch_uid="access_user_before")
def user_before_save(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and not set(update_fields) & set(_WATCHED)):
        return  # a new account, or e.g. last_login updated at log-in
    instance._access_before = User.objects.filter(pk=instance.pk).values(*_WATCHED).first()


@receiver(post_save, sender=User, dispatch_uid="access_user_saved")
def user_saved(sender, instance, created, **kwargs) -> None:
    before = getattr(instance, "_access_before", None)
    instance._access_before = None
    if created or before is None:
        return
    if any(before[name] != getattr(instance, name) for name in _WATCHED):
        _changed_on_commit(instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="access_user_deleted")
def user_deleted(sender, instance, **kwargs) -> None:
    _changed_on_commit(instance.pk)


@receiver(user_logged_out, dispatch_uid="access_logged_out")
def logged_out(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    session_ended(session_key=session.session_key if session is not None else None)
