"""Repeated failed log-ins lock the account, or the address, for a while."""

import time

import pytest
from django.urls import reverse

from apps.audit.models import AuditEntry

pytestmark = pytest.mark.django_db
PASSWORD = "plant-room-3am"


@pytest.fixture
def people(django_user_model):
    return {
        "estates": django_user_model.objects.create_user("estates", password=PASSWORD),
        "admin": django_user_model.objects.create_superuser("boss", password=PASSWORD),
    }


def login(client, username, password, *, path="accounts:login", address="198.51.100.7"):
    return client.post(
        reverse(path), {"username": username, "password": password}, REMOTE_ADDR=address, follow=False
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("path", ["accounts:login", "admin:login"])
def test_twenty_wrong_passwords_then_the_right_one_does_not_log_in(client, people, path):
    for _ in range(20):
        login(client, "boss", "guess", path=path)
    response = login(client, "boss", PASSWORD, path=path)
    assert not logged_in(client)
    assert "Too many failed log-ins" in response.content.decode()
    entry = AuditEntry.objects.get(action="login locked (account)")
    assert entry.after["username"] == "boss" and entry.after["address"] == "198.51.100.7"
    assert entry.object_repr == "log-ins to account 'boss'"


def test_a_locked_account_does_not_lock_others_from_the_same_address(client, people, settings):
    for _ in range(settings.HEATOPS_LOGIN_MAX_FAILURES):
        login(client, "estates", "guess")
    login(client, "estates", PASSWORD)
    assert not logged_in(client)
    login(client, "boss", PASSWORD)
    assert logged_in(client)


def test_an_address_guessing_many_accounts_is_locked_for_every_account(client, people, settings):
    for i in range(settings.HEATOPS_LOGIN_MAX_FAILURES_PER_ADDRESS):
        login(client, f"nobody{i}", "guess", address="203.0.113.9")
    login(client, "estates", PASSWORD, address="203.0.113.9")
    assert not logged_in(client)
    assert AuditEntry.objects.filter(action="login locked (address)").count() == 1
    login(client, "estates", PASSWORD, address="198.51.100.20")  # someone else, elsewhere
    assert logged_in(client)


def test_the_lock_ends_after_its_time_and_a_wrong_password_says_so_plainly(client, people, settings):
    settings.HEATOPS_LOGIN_LOCKOUT_S = 1
    response = login(client, "estates", "guess")
    assert "That username and password do not match" in response.content.decode()
    for _ in range(settings.HEATOPS_LOGIN_MAX_FAILURES):
        login(client, "estates", "guess")
    time.sleep(1.2)  # the lock's own length, set to one second for the test
    login(client, "estates", PASSWORD)
    assert logged_in(client)
