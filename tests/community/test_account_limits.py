"""A visitor may not sign up or ask for password-reset e-mail without limit."""
import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def sign_up(client, name: str):
    return client.post("/accounts/signup/", {"username": name, "email": f"{name}@example.com",
                                             "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"})


def test_sign_ups_from_one_address_are_limited(client, settings):
    settings.ACCOUNT_SIGNUP_RATE = "2/hour"
    for name in ("ann", "ben"):
        assert sign_up(client, name).status_code == 302
        client.logout()
    response = sign_up(client, "cal")
    assert response.status_code == 429 and "Too many sign-ups" in response.content.decode()
    assert not get_user_model().objects.filter(username="cal").exists()


def test_another_address_may_still_sign_up(client, settings):
    settings.ACCOUNT_SIGNUP_RATE = "1/hour"
    sign_up(client, "ann")
    client.logout()
    assert client.post("/accounts/signup/", {"username": "ben", "email": "ben@example.com",
                                             "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
                       REMOTE_ADDR="198.51.100.7").status_code == 302


def test_one_inbox_gets_a_few_reset_emails_whoever_asks(client, settings):
    settings.PASSWORD_RESET_EMAIL_RATE = "2/hour"
    UserFactory(email="victim@example.com")
    for i in range(2):
        response = client.post("/accounts/password_reset/", {"email": "Victim@example.com"}, REMOTE_ADDR=f"203.0.113.{i}")
        assert response.status_code == 302
    response = client.post("/accounts/password_reset/", {"email": "victim@example.com"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and "Too many password reset requests" in response.content.decode()
    assert len(mail.outbox) == 2


def test_one_address_asks_for_a_few_resets_whatever_the_inbox(client, settings):
    settings.PASSWORD_RESET_RATE = "2/hour"
    for i in range(2):
        assert client.post("/accounts/password_reset/", {"email": f"n{i}@example.com"}).status_code == 302
    assert client.post("/accounts/password_reset/", {"email": "n9@example.com"}).status_code == 429


def test_addresses_in_one_ipv6_64_share_a_budget(client, settings):
    settings.ACCOUNT_SIGNUP_RATE = "1/hour"
    form = {"email": "x@example.com", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"}
    assert client.post("/accounts/signup/", {**form, "username": "ann"}, REMOTE_ADDR="2001:db8:1:2::1").status_code == 302
    client.logout()
    assert client.post("/accounts/signup/", {**form, "username": "ben"},
                       REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
