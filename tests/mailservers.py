"""Mail servers for tests that send email: Django's in-memory backend, misbehaving."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.locmem import EmailBackend


class FailingOnce(EmailBackend):
    """The mail server refuses the first message, then takes them. Set
    ``EMAIL_BACKEND = "tests.mailservers.FailingOnce"`` and ``FailingOnce.failed = False``."""

    failed = False

    def send_messages(self, messages):
        if not FailingOnce.failed:
            FailingOnce.failed = True
            raise smtplib.SMTPServerDisconnected("the mail server went away")
        return super().send_messages(messages)
