"""The forum as a browser uses it: forms, HTMX fragments, moderation buttons."""
import pytest

from community.models import Thread
from tests.factories import StaffFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def test_new_thread_form_creates_and_redirects(client, user, category):
    client.force_login(user)
    response = client.post("/forum/new/", {"title": "Hello", "category": category.pk, "kind": "question",
                                           "tags": "a, b", "body": "Body text"})
    thread = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == thread.get_absolute_url()
    assert sorted(thread.tags.values_list("name", flat=True)) == ["a", "b"]


def test_new_thread_form_errors_keep_input(client, user, category):
    client.force_login(user)
    response = client.post("/forum/new/", {"title": "", "category": category.pk, "kind": "question", "body": "kept text"})
    assert response.status_code == 200 and "kept text" in response.content.decode()
    assert not Thread.objects.exists()


def test_htmx_vote_returns_the_vote_fragment(client, user, category):
    post = make_thread(category=category).posts.first()
    client.force_login(user)
    response = client.post(f"/forum/p/{post.pk}/vote/", {"value": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="vote-{post.pk}"' in response.content.decode() and ">1<" in response.content.decode()


def test_quote_reply_links_the_post(client, user, category):
    thread = make_thread(category=category)
    quoted = make_post(thread=thread, body="original")
    client.force_login(user)
    client.post(f"/forum/t/{thread.pk}/reply/", {"body": "> original\n\nagreed", "reply_to": quoted.pk})
    assert thread.posts.last().reply_to == quoted


def test_thread_posts_are_paginated_by_twenty(client, category):
    thread = make_thread(category=category)
    for i in range(25):
        make_post(thread=thread, body=f"reply number {i}")
    first = client.get(thread.get_absolute_url()).content.decode()
    second = client.get(thread.get_absolute_url() + "?page=2").content.decode()
    assert "reply number 19" in first and "reply number 20" not in first
    assert "reply number 24" in second


def test_staff_moderation_menu_pins_and_locks(client, category):
    staff = StaffFactory()
    thread = make_thread(category=category)
    client.force_login(staff)
    assert "Moderation" in client.get(thread.get_absolute_url()).content.decode()
    client.post(f"/forum/t/{thread.pk}/moderate/", {"action": "pin"})
    client.post(f"/forum/t/{thread.pk}/moderate/", {"action": "lock"})
    thread.refresh_from_db()
    assert thread.is_pinned and thread.is_locked


def test_members_cannot_use_the_moderation_endpoint(client, user, category):
    thread = make_thread(category=category)
    client.force_login(user)
    client.post(f"/forum/t/{thread.pk}/moderate/", {"action": "pin"})
    thread.refresh_from_db()
    assert not thread.is_pinned


def test_revisions_page_lists_earlier_bodies(client, user, category):
    from community import services

    thread = make_thread(author=user, category=category, body="first version")
    services.edit_post(editor=user, post=thread.posts.first(), body="second version")
    page = client.get(f"/forum/p/{thread.posts.first().pk}/revisions/").content.decode()
    assert "first version" in page and "second version" in page


def test_watch_and_bookmark_toggle(client, user, category):
    thread = make_thread(category=category)
    client.force_login(user)
    assert "Watching" in client.post(f"/forum/t/{thread.pk}/watch/", {"watch": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Bookmarked" in client.post(f"/forum/t/{thread.pk}/bookmark/", {"bookmark": "1"}, HTTP_HX_REQUEST="true").content.decode()


def test_thread_page_draws_its_activity_as_an_svg_sparkline(client, category):
    from core.charts import sparkline

    thread = make_thread(category=category)
    make_post(thread=thread)
    page = client.get(thread.get_absolute_url()).content.decode()
    assert '<svg class="sparkline"' in page and 'aria-label="2 posts in the last 30 days"' in page
    assert sparkline([0, 0, 4], label="x").count(" L") == 2


def test_sparkline_label_is_escaped():
    from core.charts import sparkline

    assert "<script>" not in sparkline([1, 2], label="<script>")


def test_a_tag_with_a_slash_has_working_pages(client, category):
    thread = make_thread(category=category, tags=["tcp/ip"])
    assert client.get(thread.get_absolute_url()).status_code == 200
    assert client.get("/forum/").status_code == 200
    assert thread.title in client.get("/forum/tag/tcp/ip/").content.decode()
