"""Caps on what one request may ask: mentions that notify, search query length."""
import pytest
from django.test import Client

from community import services
from community.models import Notification
from core.exceptions import RateLimited
from tests.conftest import client_for
from tests.factories import UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def test_only_the_first_mentions_of_a_post_notify(category, settings):
    settings.FORUM_MAX_MENTIONS_PER_POST = 10
    members = [UserFactory() for _ in range(11)]
    thread = make_thread(category=category)
    post = make_post(thread=thread, body=" ".join(f"@{m.username}" for m in members))
    notified = set(Notification.objects.filter(post=post, kind="mention").values_list("recipient_id", flat=True))
    assert notified == {m.pk for m in members[:10]}
    assert f'href="/u/{members[10].username}/"' in post.body_html  # still linked, just not notified


@pytest.mark.parametrize("path", ["/api/v1/search/", "/api/v1/threads/"])
def test_an_overlong_search_query_is_400_naming_q(api, path, settings):
    settings.SEARCH_MAX_QUERY_LENGTH = 200
    response = api.get(path, {"q": "a" * 201})
    assert response.status_code == 400 and "q" in response.json()


def test_a_search_query_at_the_limit_is_fine(api, settings):
    settings.SEARCH_MAX_QUERY_LENGTH = 200
    assert api.get("/api/v1/search/", {"q": "a" * 200}).status_code == 200


def test_the_search_page_says_when_a_query_is_too_long(client, settings):
    settings.SEARCH_MAX_QUERY_LENGTH = 200
    response = client.get("/forum/search/", {"q": "a" * 201})
    assert response.status_code == 400 and "at most 200 characters" in response.content.decode()


def test_edits_cannot_mention_more_members_than_one_post_may(category, settings):
    settings.FORUM_MAX_MENTIONS_PER_POST = 3
    author = UserFactory()
    members = [UserFactory() for _ in range(6)]
    post = make_post(thread=make_thread(category=category), author=author,
                     body=" ".join(f"@{m.username}" for m in members[:2]))
    services.edit_post(editor=author, post=post, body=" ".join(f"@{m.username}" for m in members[2:4]))
    services.edit_post(editor=author, post=post, body=" ".join(f"@{m.username}" for m in members[4:]))
    assert Notification.objects.filter(post=post, kind="mention").count() == 3


def test_edits_are_limited_per_member_and_hour(category, settings):
    settings.FORUM_EDITS_PER_HOUR = 2
    author = UserFactory()
    post = make_post(thread=make_thread(category=category), author=author, body="v0")
    services.edit_post(editor=author, post=post, body="v1")
    services.edit_post(editor=author, post=post, body="v2")
    with pytest.raises(RateLimited):
        services.edit_post(editor=author, post=post, body="v3")
    assert client_for(author).patch(f"/api/v1/posts/{post.pk}/", {"body": "v4"}, format="json").status_code == 429


def test_new_votes_are_limited_per_member_and_day_but_changing_one_is_free(category, settings):
    settings.FORUM_VOTES_PER_DAY = 2
    voter = UserFactory()
    posts = [make_post(thread=make_thread(category=category)) for _ in range(3)]
    services.vote(user=voter, post=posts[0], value=1)
    services.vote(user=voter, post=posts[1], value=1)
    services.vote(user=voter, post=posts[1], value=-1)  # a change, not a new vote
    with pytest.raises(RateLimited):
        services.vote(user=voter, post=posts[2], value=1)
    assert client_for(voter).post(f"/api/v1/posts/{posts[2].pk}/vote/", {"value": 1}, format="json").status_code == 429
    page = Client()
    page.force_login(voter)
    response = page.post(f"/forum/p/{posts[2].pk}/vote/", {"value": "1"})
    assert response.status_code == 429 and "today's votes" in response.content.decode()
