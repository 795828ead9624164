"""How every app declares its Celery tasks, and makes what they do happen once.

Celery delivers a task at least once: with ``CELERY_TASK_ACKS_LATE`` a task whose worker
dies before it finishes runs again, and a retry runs it again by design. So a task that
pages someone, posts a webhook or sends an email first records the key of that effect in
a table whose unique constraint is the key (``record_once``), in the same transaction as
the effect, and does nothing if the key is there.

``task`` is the one decorator for tasks: a name, no result kept, and, for the errors
given, retries with exponential backoff (``BACKOFF_S`` doubling up to ``BACKOFF_MAX_S``,
``MAX_RETRIES`` times, no jitter, so ``retry_span_s`` is exactly how long it keeps trying).
Queues are routed by name in settings (``CELERY_TASK_ROUTES``), not here.
"""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task
from django.db import IntegrityError, models, transaction

BACKOFF_S = 2
BACKOFF_MAX_S = 300
MAX_RETRIES = 8


def task(
    name: str,
    *,
    retry_on: tuple[type[BaseException], ...] = (),
    backoff_s: int = BACKOFF_S,
    backoff_max_s: int = BACKOFF_MAX_S,
    max_retries: int = MAX_RETRIES,
) -> Callable:
    """``@task("alarms.webhook", retry_on=(httpx.HTTPError,))``: a shared Celery task."""
    options: dict = {"name": name, "ignore_result": True}
    if retry_on:
        options.update(
            autoretry_for=retry_on,
            retry_backoff=backoff_s,
            retry_backoff_max=backoff_max_s,
            retry_jitter=False,
            max_retries=max_retries,
        )
    return shared_task(**options)


def retry_delays_s(task_) -> list[int]:
    """The waits before each retry of a task declared with ``task``, in seconds."""
    if not getattr(task_, "autoretry_for", ()):
        return []
    factor, cap = task_.retry_backoff, task_.retry_backoff_max
    return [min(cap, factor * 2**n) for n in range(task_.max_retries)]


def retry_span_s(task_) -> int:
    """How long a failing task keeps being retried, from its first attempt to its last."""
    return sum(retry_delays_s(task_))


def record_once(model: type[models.Model], **fields) -> models.Model | None:
    """Insert the row that records an effect's key, in the caller's transaction (which then
    performs the effect); None if a row with the key exists, and the caller does nothing.

    The key is the model's unique constraint. The insert runs in a savepoint, so a
    duplicate leaves the caller's transaction usable. On PostgreSQL, an insert of a key
    that another transaction has inserted but not committed waits for it: if it commits,
    this one gets None; if it rolls back (its effect failed), this one inserts and goes on.
    SQLite transactions here are IMMEDIATE, so the second one waits before it starts."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_once belongs in the transaction that performs the effect")
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        return None
