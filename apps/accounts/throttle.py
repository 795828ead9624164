"""Log-in throttling: after repeated failed log-ins, an account (from anywhere) or an
address (for any account) is refused for a while, even with the right password.

Counts live in the cache (Redis in production): failures per account and per client
address within ``HEATOPS_LOGIN_LOCKOUT_S``; reaching ``HEATOPS_LOGIN_MAX_FAILURES``
(account) or ``HEATOPS_LOGIN_MAX_FAILURES_PER_ADDRESS`` (address) locks it for
``HEATOPS_LOGIN_LOCKOUT_S``. A successful log-in clears the account's count. Each lock
sends ``login_locked``, which the audit log records.

While the cache (Redis) cannot be reached, log-ins are not throttled (each attempt logs a
warning): people must be able to log in to a plant's dashboard during a Redis outage, and
the passwords are still checked; the counts start again when Redis is back.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.dispatch import Signal

# Sent when an account or an address is locked: scope ("account" or "address"), value,
# username (the one tried last), address, until (epoch seconds).
login_locked = Signal()
log = logging.getLogger(__name__)


def _cache_down(exc: Exception) -> None:
    log.warning("log-in throttling is off while the cache is unreachable: %s", exc)


def _key(kind: str, scope: str, value: str) -> str:
    return f"login:{kind}:{scope}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _scopes(username: str, address: str) -> list[tuple[str, str, int]]:
    return [
        ("account", username.strip().lower(), settings.HEATOPS_LOGIN_MAX_FAILURES),
        ("address", address, settings.HEATOPS_LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


def login_wait_s(*, username: str, address: str, now: float | None = None) -> int:
    """Seconds until this account or address may try again (0: now)."""
    now = time.time() if now is None else now
    wait = 0.0
    for scope, value, _limit in _scopes(username, address):
        try:
            until = cache.get(_key("locked", scope, value))
        except Exception as exc:
            _cache_down(exc)
            return 0
        if until:
            wait = max(wait, until - now)
    return int(wait + 0.999) if wait > 0 else 0


def login_failed(*, username: str, address: str, now: float | None = None) -> None:
    try:
        _count_failure(username=username, address=address, now=now)
    except Exception as exc:
        _cache_down(exc)


def _count_failure(*, username: str, address: str, now: float | None) -> None:
    now = time.time() if now is None else now
    window = settings.HEATOPS_LOGIN_LOCKOUT_S
    for scope, value, limit in _scopes(username, address):
        key = _key("failures", scope, value)
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count == limit:
            until = now + window
            cache.set(_key("locked", scope, value), until, timeout=window)
            login_locked.send(
                sender=login_failed, scope=scope, username=username, address=address, until=until
            )


def login_succeeded(*, username: str) -> None:
    try:
        cache.delete(_key("failures", "account", username.strip().lower()))
    except Exception as exc:
        _cache_down(exc)


def client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


class ThrottledLoginMixin:
    """For Django's authentication forms: refuse while locked, count failures."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        wait = login_wait_s(username=username, address=address)
        if wait:
            minutes = max(1, round(wait / 60))
            raise forms.ValidationError(
                f"Too many failed log-ins for this account or from this address. Try again in "
                f"{minutes} minute{'s' if minutes != 1 else ''}, or ask an administrator to help.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failed(username=username, address=address)
            raise
        login_succeeded(username=username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Try again.",
    }


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
