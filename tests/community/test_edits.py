"""Editing a thread or its opening post writes all of it or nothing, and never loses what
concurrent requests wrote meanwhile."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from community import services
from community.models import Thread
from tests.conftest import client_for
from tests.factories import make_post, make_thread


def test_title_edit_keeps_counts_written_by_a_concurrent_reply(user, category):
    thread = make_thread(author=user, category=category)
    loaded_before_the_reply = Thread.objects.get(pk=thread.pk)
    make_post(thread=thread)
    services.update_thread(editor=user, thread=loaded_before_the_reply, title="Renamed")
    thread.refresh_from_db()
    assert (thread.title, thread.slug, thread.reply_count) == ("Renamed", "renamed", 1)


def test_title_edit_keeps_the_score_of_a_concurrent_vote(user, other_user, category):
    thread = make_thread(author=user, category=category)
    loaded_before_the_vote = Thread.objects.get(pk=thread.pk)
    services.vote(user=other_user, post=thread.posts.get(position=1), value=1)
    services.update_thread(editor=user, thread=loaded_before_the_vote, kind=Thread.Kind.QUESTION)
    thread.refresh_from_db()
    assert (thread.kind, thread.score) == (Thread.Kind.QUESTION, 1)


def test_a_blank_title_on_the_edit_page_saves_nothing(client, user, category):
    thread = make_thread(author=user, category=category, title="Original", body="old body")
    opening = thread.posts.get(position=1)
    client.force_login(user)
    response = client.post(reverse("community:edit-post", args=[opening.pk]),
                           {"title": "   ", "body": "new body"})
    assert response.status_code == 200 and "error" in response.content.decode()
    opening.refresh_from_db()
    thread.refresh_from_db()
    assert (opening.body, thread.title, opening.revisions.count()) == ("old body", "Original", 0)


def test_a_bad_title_through_the_service_saves_nothing(user, category):
    thread = make_thread(author=user, category=category, title="Original", body="old body")
    opening = thread.posts.get(position=1)
    with pytest.raises(ValidationError) as raised:
        services.edit_post(editor=user, post=opening, body="new body", title="x" * 201)
    assert "title" in raised.value.message_dict
    opening.refresh_from_db()
    assert opening.body == "old body" and opening.revisions.count() == 0


def test_edit_page_saves_title_and_body_together(client, user, category):
    thread = make_thread(author=user, category=category, title="Original", body="old body")
    opening = thread.posts.get(position=1)
    client.force_login(user)
    response = client.post(reverse("community:edit-post", args=[opening.pk]),
                           {"title": "New title", "kind": "discussion", "body": "new body"})
    assert response.status_code == 302
    thread.refresh_from_db()
    opening.refresh_from_db()
    assert (thread.title, opening.body, opening.revisions.count()) == ("New title", "new body", 1)


def test_a_reply_has_no_title_field(client, user, category):
    thread = make_thread(author=user, category=category)
    reply = make_post(thread=thread, author=user)
    client.force_login(user)
    page = client.get(reverse("community:edit-post", args=[reply.pk])).content.decode()
    assert 'name="title"' not in page and 'name="body"' in page


def test_a_title_changed_through_the_api_keeps_the_old_title_as_a_revision(user, category):
    thread = make_thread(author=user, category=category, title="Original", body="the body")
    response = client_for(user).patch(f"/api/v1/threads/{thread.pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Renamed"
    revision = thread.posts.get(position=1).revisions.get()
    assert (revision.title, revision.body, revision.editor) == ("Original", "the body", user)


def test_tags_changed_through_the_api_leave_no_revision(user, category):
    thread = make_thread(author=user, category=category, title="Original")
    response = client_for(user).patch(f"/api/v1/threads/{thread.pk}/", {"tags": ["lora"]}, format="json")
    assert response.status_code == 200 and response.json()["tags"] == ["lora"]
    assert not thread.posts.get(position=1).revisions.exists()


def test_changing_tags_does_not_revalidate_a_body_written_under_an_older_limit(user, category, settings):
    thread = make_thread(author=user, category=category, body="a long opening post")
    settings.MARKDOWN_MAX_LENGTH = 5
    response = client_for(user).patch(f"/api/v1/threads/{thread.pk}/", {"tags": ["lora"]}, format="json")
    assert response.status_code == 200 and thread.posts.get(position=1).body == "a long opening post"


@pytest.mark.django_db(transaction=True)
def test_an_edit_opens_its_own_transaction(category):
    """Outside a test's transaction, as in production: its row locks need one."""
    thread = make_thread(category=category, body="first")
    services.edit_post(editor=thread.author, post=thread.posts.get(position=1), body="second")
    assert thread.posts.get(position=1).body == "second"
