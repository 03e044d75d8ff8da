"""Holding a session or an API token is not owning the account: the e-mail address needs the
password, a password change revokes every token, and tokens are capped per member."""
import re

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.models import ApiToken
from core.services import create_token
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "another-correct-horse-2026"


def test_api_email_change_without_the_password_is_400(as_user, user):
    response = as_user.patch("/api/v1/me/", {"email": "attacker@example.com"}, format="json")
    assert response.status_code == 400 and "current_password" in response.json()
    user.refresh_from_db()
    assert user.email != "attacker@example.com"


def test_api_email_change_with_a_wrong_password_is_400(as_user, user):
    response = as_user.patch("/api/v1/me/", {"email": "attacker@example.com", "current_password": "guess"},
                             format="json")
    assert response.status_code == 400 and "current_password" in response.json()


def test_whoever_holds_a_token_cannot_guess_the_password_through_the_email_change(as_user, user, settings):
    settings.PASSWORD_GUESSES_MAX = 3
    for guess in ("guess-1", "guess-2", "guess-3"):
        response = as_user.patch("/api/v1/me/", {"email": "attacker@example.com", "current_password": guess},
                                 format="json")
        assert response.status_code == 400
    response = as_user.patch("/api/v1/me/", {"email": "attacker@example.com", "current_password": PASSWORD},
                             format="json")
    assert response.status_code == 429  # even the right one, once the guesses are used up
    user.refresh_from_db()
    assert not user.pending_email


def test_failing_with_a_members_name_from_other_addresses_does_not_lock_them_out(client, user, settings):
    for i in range(settings.AXES_FAILURE_LIMIT + 1):
        Client(REMOTE_ADDR=f"198.51.100.{i}").post("/accounts/login/", {"username": user.username, "password": "x"})
    response = Client(REMOTE_ADDR="203.0.113.7").post("/accounts/login/", {"username": user.username,
                                                                           "password": PASSWORD})
    assert response.status_code == 302


def test_one_address_failing_many_times_is_locked_out(user, settings):
    attacker = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post("/accounts/login/", {"username": user.username, "password": "x"})
    assert attacker.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 429


def test_addresses_of_one_ipv6_64_share_their_failures(user, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=f"2001:db8:1:2::{i + 1:x}").post("/accounts/login/", {"username": user.username,
                                                                                   "password": "x"})
    assert Client(REMOTE_ADDR="2001:db8:1:2:ffff::9").post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 429
    assert Client(REMOTE_ADDR="2001:db8:1:3::1").post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302


def test_logging_in_to_ones_own_account_does_not_reset_the_addresss_failures(user, settings):
    own = UserFactory()
    attacker = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attacker.post("/accounts/login/", {"username": user.username, "password": "x"})
    assert attacker.post("/accounts/login/", {"username": own.username, "password": PASSWORD}).status_code == 302
    attacker.logout()
    attacker.post("/accounts/login/", {"username": user.username, "password": "x"})
    assert attacker.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 429


def test_api_email_change_with_the_password_waits_for_the_new_address(as_user, user,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user.patch("/api/v1/me/", {"email": "new@example.com", "current_password": PASSWORD},
                                 format="json")
    data = response.json()
    assert response.status_code == 200 and (data["email"], data["pending_email"]) == (user.email, "new@example.com")
    assert "current_password" not in data
    assert [m.to for m in mail.outbox] == [["new@example.com"], [user.email]]


def test_api_other_profile_fields_need_no_password(as_user, user):
    response = as_user.patch("/api/v1/me/", {"display_name": "Ada", "email": user.email}, format="json")
    assert response.status_code == 200 and response.json()["display_name"] == "Ada"


def test_api_profile_lengths_are_checked(as_user):
    response = as_user.patch("/api/v1/me/", {"display_name": "x" * 81}, format="json")
    assert response.status_code == 400 and "display_name" in response.json()


def profile_form(user, **changes):
    return {"action": "profile", "display_name": "", "email": user.email, "bio": "", **changes}


def test_settings_page_email_change_needs_the_password(client, user):
    client.force_login(user)
    response = client.post("/accounts/settings/", profile_form(user, email="attacker@example.com"))
    assert response.status_code == 200 and 'name="current_password"' in response.content.decode()
    assert "current password" in response.content.decode()
    user.refresh_from_db()
    assert user.email != "attacker@example.com"


def test_settings_page_email_change_is_confirmed_by_the_link_sent_to_it(client, user,
                                                                       django_capture_on_commit_callbacks):
    old = user.email
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/settings/", profile_form(user, email="new@example.com",
                                                                   current_password=PASSWORD))
    assert response.status_code == 302
    assert 'data-testid="pending-email"' in client.get("/accounts/settings/").content.decode()
    user.refresh_from_db()
    assert (user.email, user.pending_email) == (old, "new@example.com")
    link = re.search(r"http://testserver(/accounts/email/confirm/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200  # a mail scanner opening it changes nothing
    user.refresh_from_db()
    assert user.email == old
    assert client.post(link).status_code == 302
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("new@example.com", "")
    assert client.post(link).status_code == 400  # used once


def _asked(client, user, email, capture):
    client.force_login(user)
    with capture(execute=True):
        client.post("/accounts/settings/", profile_form(user, email=email, current_password=PASSWORD))
    return re.search(r"http://testserver(/accounts/email/confirm/\S+/)", mail.outbox[-2].body).group(1)


def test_the_link_works_only_for_the_member_signed_in_who_asked(client, user, other_user,
                                                                django_capture_on_commit_callbacks):
    link = _asked(client, user, "typo@example.com", django_capture_on_commit_callbacks)
    client.logout()
    assert client.post(link).status_code == 302 and "/login/" in client.post(link)["Location"]
    client.force_login(other_user)  # whoever owns the mistyped address, say
    assert client.post(link).status_code == 400
    user.refresh_from_db()
    assert user.email != "typo@example.com"


def test_a_later_change_voids_an_earlier_link_and_saving_the_profile_keeps_a_pending_change(
        client, user, django_capture_on_commit_callbacks):
    first = _asked(client, user, "first@example.com", django_capture_on_commit_callbacks)
    _asked(client, user, "second@example.com", django_capture_on_commit_callbacks)
    assert client.post(first).status_code == 400
    user.refresh_from_db()
    client.post("/accounts/settings/", profile_form(user, bio="Just the bio"))
    user.refresh_from_db()
    assert user.pending_email == "second@example.com"


def test_cancelling_or_a_new_password_drops_a_pending_change(client, user, django_capture_on_commit_callbacks):
    link = _asked(client, user, "new@example.com", django_capture_on_commit_callbacks)
    client.post("/accounts/settings/", {"action": "cancel_email_change"})
    user.refresh_from_db()
    assert user.pending_email == "" and client.post(link).status_code == 400
    _asked(client, user, "new@example.com", django_capture_on_commit_callbacks)
    user.set_password("another-long-passphrase-7")
    user.save()
    user.refresh_from_db()
    assert user.pending_email == ""


def test_email_changes_are_limited_per_member_and_per_inbox(client, user, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_CHANGE_RATE, settings.PASSWORD_RESET_EMAIL_RATE = "3/hour", "1/hour"  # a refusal counts too
    _asked(client, user, "a@example.com", django_capture_on_commit_callbacks)
    refused = client.post("/accounts/settings/", profile_form(user, email="a@example.com", current_password=PASSWORD))
    assert refused.status_code == 200 and "Too many e-mail changes" in refused.content.decode()  # that inbox
    _asked(client, user, "b@example.com", django_capture_on_commit_callbacks)
    response = client_for(user).patch("/api/v1/me/", {"email": "c@example.com", "current_password": PASSWORD},
                                      format="json")
    assert response.status_code == 429  # that member
    assert len(mail.outbox) == 4


@pytest.mark.parametrize("token", ["nonsense", "a" * 300])
def test_a_forged_link_is_refused(client, user, token):
    client.force_login(user)
    assert client.post(f"/accounts/email/confirm/{token}/").status_code == 400


def test_an_expired_link_is_refused(client, user, settings, django_capture_on_commit_callbacks):
    link = _asked(client, user, "late@example.com", django_capture_on_commit_callbacks)
    settings.EMAIL_CHANGE_MAX_AGE_S = -1
    assert client.post(link).status_code == 400
    user.refresh_from_db()
    assert user.email != "late@example.com"


def token_works(key):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/me/").status_code == 200


def test_password_change_page_revokes_api_tokens(client, user):
    _token, key = create_token(user=user, name="script")
    client.force_login(user)
    response = client.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not token_works(key)


def test_the_password_pages_say_that_a_change_revokes_api_tokens(client, user):
    client.force_login(user)
    assert "revokes your API tokens" in client.get("/accounts/settings/").content.decode()
    assert 'data-testid="tokens-revoked-note"' in client.get("/accounts/password_change/").content.decode()
    done = client.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert "make new ones in Settings" in done.content.decode()


def test_password_reset_revokes_api_tokens(client, user):
    _token, key = create_token(user=user, name="script")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    start = client.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/")
    response = client.post(start["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not token_works(key)


def test_set_password_anywhere_revokes_api_tokens(user):
    create_token(user=user, name="script")
    user.set_password(NEW_PASSWORD)  # as the admin's password form and the shell do
    user.save()
    assert not ApiToken.objects.filter(user=user).exists()


def test_a_hash_upgrade_at_login_keeps_api_tokens(user):
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")  # not the preferred hasher
    user.save()
    create_token(user=user, name="script")
    assert user.check_password(PASSWORD) and user.password.startswith("md5")  # re-hashed and saved
    assert ApiToken.objects.filter(user=user).exists()


def test_tokens_are_capped_per_member(user, settings):
    settings.API_TOKENS_PER_USER = 2
    create_token(user=user, name="a"), create_token(user=user, name="b")
    with pytest.raises(ValidationError) as raised:
        create_token(user=user, name="c")
    assert "name" in raised.value.message_dict and ApiToken.objects.filter(user=user).count() == 2


def test_settings_page_shows_the_token_cap_as_a_form_error(client, user, settings):
    settings.API_TOKENS_PER_USER = 1
    create_token(user=user, name="a")
    client.force_login(user)
    response = client.post("/accounts/settings/", {"action": "create_token", "name": "b"})
    assert response.status_code == 200 and response.context["new_key"] is None
    assert response.context["token_form"].errors["name"]


def test_token_endpoint_past_the_cap_is_400_naming_name(api, user, settings):
    settings.API_TOKENS_PER_USER = 1
    create_token(user=user, name="a")
    response = api.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 400 and "name" in response.json()
