"""Moderators suspend members: sessions end, log-ins and API keys are refused until then, the
profile says why, and the member is told by e-mail."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from community import services
from community.models import User
from core.services import create_token
from tests.conftest import client_for
from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return UserFactory(username="spammer", email="spammer@example.com")


def suspend(staff, member, days=7, reason="Advertising in every thread."):
    return services.suspend_member(moderator=staff, member=member, days=days, reason=reason)


def test_a_suspended_member_is_signed_out_and_cannot_sign_in(member, staff):
    browser = Client()
    browser.force_login(member)
    assert browser.get("/accounts/settings/").status_code == 200
    suspend(staff, member)
    assert browser.get("/accounts/settings/").status_code == 302  # the session ended
    response = Client().post("/accounts/login/", {"username": "spammer", "password": PASSWORD})
    page = response.content.decode()
    assert response.status_code == 200 and "Advertising in every thread." in page


def test_a_suspended_members_api_keys_and_token_log_in_are_refused(member, staff):
    _token, key = create_token(user=member, name="script")
    suspend(staff, member)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/me/").status_code == 401
    assert api.get("/v1/models").status_code == 401
    response = Client().post("/api/v1/auth/token/", {"username": "spammer", "password": PASSWORD},
                             content_type="application/json")
    assert response.status_code == 403 and "suspended" in response.json()["detail"]


def test_the_suspension_ends_by_itself(member, staff):
    suspend(staff, member)
    User.objects.filter(pk=member.pk).update(suspended_until=timezone.now() - timedelta(seconds=1))
    assert Client().post("/accounts/login/", {"username": "spammer", "password": PASSWORD}).status_code == 302


def test_the_profile_says_why_and_the_member_is_emailed(member, staff, client, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        suspend(staff, member)
    page = client.get("/u/spammer/").content.decode()
    assert 'id="profile-suspended"' in page and "Advertising in every thread." in page
    assert mailoutbox[0].to == ["spammer@example.com"] and "Advertising in every thread." in mailoutbox[0].body


def test_a_moderator_suspends_and_lifts_from_the_profile(member, staff):
    browser = Client()
    browser.force_login(staff)
    assert 'id="suspend-form"' in browser.get("/u/spammer/").content.decode()
    browser.post("/u/spammer/suspension/", {"days": "3", "reason": "Cooling off."})
    member.refresh_from_db()
    assert member.is_suspended and member.suspended_until > timezone.now() + timedelta(days=2, hours=23)
    browser.post("/u/spammer/suspension/", {"action": "lift"})
    member.refresh_from_db()
    assert not member.is_suspended and member.suspension_reason == ""


def test_members_cannot_suspend_and_moderators_cannot_suspend_staff(member, staff):
    assert client_for(UserFactory()).post("/api/v1/users/spammer/suspension/", {"days": 1, "reason": "x"},
                                          format="json").status_code == 403
    other_moderator = StaffFactory()
    response = client_for(staff).post(f"/api/v1/users/{other_moderator.username}/suspension/",
                                      {"days": 1, "reason": "x"}, format="json")
    assert response.status_code == 403 and not User.objects.get(pk=other_moderator.pk).is_suspended
    assert 'id="suspend-form"' not in Client().get("/u/spammer/").content.decode()


@pytest.mark.parametrize("body,field", [({"days": 0, "reason": "x"}, "days"), ({"days": 4000, "reason": "x"}, "days"),
                                        ({"days": 1, "reason": ""}, "reason"), ({"days": "a", "reason": "x"}, "days"),
                                        ({"days": 1, "reason": "x" * 501}, "reason")])
def test_a_bad_suspension_is_a_400_naming_the_field(member, staff, body, field):
    response = client_for(staff).post("/api/v1/users/spammer/suspension/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not User.objects.get(pk=member.pk).is_suspended


def test_the_api_suspends_and_lifts(member, staff):
    api = client_for(staff)
    data = api.post("/api/v1/users/spammer/suspension/", {"days": 2, "reason": "Spam."}, format="json").json()
    assert data["suspended_until"] and data["suspension_reason"] == "Spam."
    assert api.delete("/api/v1/users/spammer/suspension/").json()["suspended_until"] is None
    assert api.post("/api/v1/users/nobody/suspension/", {"days": 2, "reason": "x"}, format="json").status_code == 404


def test_an_ended_suspension_is_nobodys_business(member, staff, api):
    suspend(staff, member)
    User.objects.filter(pk=member.pk).update(suspended_until=timezone.now() - timedelta(seconds=1))
    data = client_for(UserFactory()).get("/api/v1/users/spammer/").json()
    assert (data["suspended_until"], data["suspension_reason"]) == (None, "")
