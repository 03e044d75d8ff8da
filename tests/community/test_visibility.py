"""Hidden content stays hidden everywhere: a post is visible only when both it and its thread are
(moderators see all; authors see their own hidden thread or post)."""
import pytest
from django.urls import reverse

from community import services
from community.models import ModerationAction
from tests.conftest import client_for
from tests.factories import StaffFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def hidden_thread(user, category):
    """A thread by `user` with one reply by someone else, hidden by a moderator."""
    thread = make_thread(author=user, category=category, title="Doomed thread", body="opening words")
    reply = make_post(thread=thread, body="secret reply words")
    services.moderate_thread(moderator=StaffFactory(), thread=thread, action=ModerationAction.HIDE)
    return thread, reply


def search_ids(query, kind="post"):
    return [h["id"] for h in client_for(None).get("/api/v1/search/", {"q": query, "type": kind}).json()["results"]]


@pytest.mark.parametrize("who,status", [("anonymous", 404), ("member", 404), ("reply_author", 404),
                                        ("thread_author", 200), ("staff", 200)])
def test_post_api_follows_the_thread(hidden_thread, user, who, status):
    thread, reply = hidden_thread
    viewer = {"anonymous": None, "member": UserFactory(), "reply_author": reply.author,
              "thread_author": user, "staff": StaffFactory()}[who]
    assert client_for(viewer).get(f"/api/v1/posts/{reply.pk}/").status_code == status


def test_revisions_page_follows_the_thread(client, hidden_thread):
    _thread, reply = hidden_thread
    services.edit_post(editor=reply.author, post=reply, body="edited secret")
    assert client.get(reverse("community:revisions", args=[reply.pk])).status_code == 404


def test_hiding_the_opening_post_unpublishes_the_replies_from_search(category, staff):
    thread = make_thread(category=category, body="opening words")
    reply = make_post(thread=thread, body="quantization notes")
    services.set_post_hidden(post=thread.posts.get(position=1), hidden=True)
    assert search_ids("quantization") == []
    services.set_post_hidden(post=thread.posts.get(position=1), hidden=False)
    assert search_ids("quantization") == [reply.pk]


def test_unhiding_a_thread_keeps_posts_hidden_on_their_own_out_of_search(category, staff):
    thread = make_thread(category=category)
    kept = make_post(thread=thread, body="pruning notes")
    spam = make_post(thread=thread, body="pruning spam")
    services.set_post_hidden(post=spam, hidden=True)
    services.moderate_thread(moderator=staff, thread=thread, action=ModerationAction.HIDE)
    assert search_ids("pruning") == []
    services.moderate_thread(moderator=staff, thread=thread, action=ModerationAction.UNHIDE)
    assert search_ids("pruning") == [kept.pk]


def test_showing_a_post_of_a_hidden_thread_keeps_it_out_of_search(hidden_thread):
    _thread, reply = hidden_thread
    services.set_post_hidden(post=reply, hidden=True)
    services.set_post_hidden(post=reply, hidden=False)
    assert search_ids("secret") == []


def test_a_reply_does_not_quote_a_hidden_post(client, category, staff):
    thread = make_thread(category=category)
    quoted = make_post(thread=thread, body="words nobody may read")
    make_post(thread=thread, body="I disagree", reply_to=quoted)
    services.set_post_hidden(post=quoted, hidden=True)
    page = client.get(thread.get_absolute_url()).content.decode()
    assert "I disagree" in page and "words nobody may read" not in page
    client.force_login(staff)
    assert "words nobody may read" in client.get(thread.get_absolute_url()).content.decode()


def test_replying_to_a_hidden_post_is_refused(category, staff):
    thread = make_thread(category=category)
    hidden = make_post(thread=thread, body="hidden words")
    services.set_post_hidden(post=hidden, hidden=True)
    response = client_for(UserFactory()).post(f"/api/v1/threads/{thread.pk}/posts/",
                                              {"body": "quoting", "reply_to": hidden.pk}, format="json")
    assert response.status_code == 400 and "reply_to" in response.json()


def test_profile_counts_leave_out_replies_in_hidden_threads(client, hidden_thread):
    _thread, reply = hidden_thread
    data = client.get(f"/api/v1/users/{reply.author.username}/").json()
    assert data["post_count"] == 0


def test_notifications_about_a_hidden_thread_disappear(client, category, staff):
    mentioned = UserFactory(username="mentioned")
    thread = make_thread(category=category, title="Soon hidden title")
    make_post(thread=thread, body="hey @mentioned")
    services.moderate_thread(moderator=staff, thread=thread, action=ModerationAction.HIDE)
    client.force_login(mentioned)
    page = client.get(reverse("community:notifications")).content.decode()
    assert "Soon hidden title" not in page and 'data-testid="unread"' not in page
    assert client_for(mentioned).get("/api/v1/notifications/").json()["count"] == 0


def test_the_author_of_a_hidden_thread_keeps_its_notifications(category, staff):
    thread = make_thread(category=category)
    make_post(thread=thread, body="a reply")
    services.moderate_thread(moderator=staff, thread=thread, action=ModerationAction.HIDE)
    assert client_for(thread.author).get("/api/v1/notifications/").json()["count"] == 1


def test_notification_about_a_hidden_post_disappears(category):
    thread = make_thread(category=category)
    mentioned = UserFactory(username="mentioned")
    post = make_post(thread=thread, body="hey @mentioned")
    services.set_post_hidden(post=post, hidden=True)
    assert client_for(mentioned).get("/api/v1/notifications/").json()["count"] == 0


def test_a_hidden_reply_cannot_be_accepted(user, category):
    thread = make_thread(author=user, category=category, kind="question")
    answer = make_post(thread=thread)
    services.set_post_hidden(post=answer, hidden=True)
    response = client_for(user).post(f"/api/v1/threads/{thread.pk}/accept/", {"post": answer.pk}, format="json")
    assert response.status_code == 400 and "post" in response.json()
