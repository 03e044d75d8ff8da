"""Muting a member: no notifications from them, their posts folded; never oneself or a moderator."""
import pytest
from django.test import Client

from community import services
from community.models import Mute
from tests.conftest import client_for
from tests.factories import UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def pest():
    return UserFactory(username="pest")


def test_a_muted_member_mentions_and_replies_notify_nobody(user, pest, category):
    services.set_mute(user=user, member=pest, muted=True)
    thread = make_thread(category=category, author=user)
    make_post(thread=thread, author=pest, body=f"@{user.username} hey")
    assert not user.notifications.exists()
    make_post(thread=thread, author=UserFactory(), body="a fair reply")
    assert user.notifications.count() == 1


def test_a_muted_members_posts_in_a_watched_thread_notify_nobody(user, pest, category):
    thread = make_thread(category=category)
    services.set_watch(user=user, thread=thread, watching=True)
    services.set_mute(user=user, member=pest, muted=True)
    make_post(thread=thread, author=pest, body="spam")
    assert not user.notifications.filter(kind="watching").exists()


def test_a_muted_members_posts_show_folded(user, pest, category):
    thread = make_thread(category=category)
    make_post(thread=thread, author=pest, body="noise")
    services.set_mute(user=user, member=pest, muted=True)
    browser = Client()
    browser.force_login(user)
    page = browser.get(thread.get_absolute_url()).content.decode()
    assert '<details class="muted-post">' in page and "noise" in page
    assert '<details class="muted-post">' not in Client().get(thread.get_absolute_url()).content.decode()


def test_mute_from_the_profile_and_unmute_from_settings(user, pest):
    browser = Client()
    browser.force_login(user)
    assert 'data-testid="mute"' in browser.get("/u/pest/").content.decode()
    browser.post("/u/pest/mute/", {"muted": "1"})
    assert Mute.objects.filter(user=user, muted=pest).exists()
    assert "@pest" in browser.get("/accounts/settings/").content.decode()
    response = browser.post("/u/pest/mute/", {"muted": "0", "next": "/accounts/settings/"})
    assert response["Location"] == "/accounts/settings/" and not Mute.objects.exists()


def test_nobody_mutes_themselves_or_a_moderator(user, staff):
    api = client_for(user)
    assert api.post(f"/api/v1/users/{user.username}/mute/").status_code == 403
    assert api.post(f"/api/v1/users/{staff.username}/mute/").status_code == 403
    assert not Mute.objects.exists()


def test_the_api_mutes_and_unmutes(user, pest):
    api = client_for(user)
    assert api.post("/api/v1/users/pest/mute/").json() == {"muted": True}
    assert api.post("/api/v1/users/pest/mute/").json() == {"muted": True}  # twice: still one
    assert Mute.objects.count() == 1
    assert api.delete("/api/v1/users/PEST/mute/").json() == {"muted": False}
    assert client_for(None).post("/api/v1/users/pest/mute/").status_code == 401
