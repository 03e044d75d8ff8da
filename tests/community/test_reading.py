"""Read state: a member's lists count the replies they have not seen in threads they opened."""
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from community import services
from community.models import Thread, ThreadRead
from community.reading import mark_read
from tests.factories import CategoryFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def test_read_state_only_moves_forward(user, category):
    thread = make_thread(category=category)
    mark_read(user=user, thread=thread, position=5, known=None)
    mark_read(user=user, thread=thread, position=3, known=None)  # an older page, in a tab opened before
    assert ThreadRead.objects.get(user=user, thread=thread).last_position == 5


def test_reading_nothing_new_writes_nothing(client, user, category, django_assert_num_queries):
    thread = make_thread(category=category)
    client.force_login(user)
    client.get(thread.get_absolute_url())
    with django_assert_num_queries(0):
        mark_read(user=user, thread=thread, position=1, known=1)


def test_a_database_that_refuses_the_read_state_still_shows_the_thread(client, user, category, monkeypatch):
    def refused(*args, **kwargs):
        raise DatabaseError("cannot execute INSERT in a read-only transaction")

    thread = make_thread(category=category)
    monkeypatch.setattr(ThreadRead.objects, "bulk_create", refused)
    client.force_login(user)
    assert client.get(thread.get_absolute_url()).status_code == 200
    assert not ThreadRead.objects.filter(user=user).exists()


def test_a_list_counts_the_replies_since_the_member_last_read(client, user, category):
    thread = make_thread(category=category)
    make_post(thread=thread)
    client.force_login(user)
    client.get(thread.get_absolute_url())
    first_new = make_post(thread=thread)
    make_post(thread=thread)
    page = client.get("/forum/").content.decode()
    assert f'href="{thread.get_absolute_url()}?post={first_new.pk}#post-{first_new.pk}">2 new replies</a>' in page


def test_the_home_page_says_so_too(client, user, category):
    thread = make_thread(category=category)
    client.force_login(user)
    client.get(thread.get_absolute_url())
    make_post(thread=thread)
    assert "1 new reply</a>" in client.get("/").content.decode()


def test_reading_the_thread_clears_its_new_replies(client, user, category):
    thread = make_thread(category=category)
    client.force_login(user)
    client.get(thread.get_absolute_url())
    make_post(thread=thread)
    client.get(thread.get_absolute_url())
    assert "new repl" not in client.get("/forum/").content.decode()


def test_an_accepted_answer_shown_on_top_counts_as_read(client, user, category):
    thread = make_thread(category=category, kind="question")
    answer = make_post(thread=thread)
    thread.accepted_post = answer
    thread.save(update_fields=["accepted_post"])
    client.force_login(user)
    client.get(thread.get_absolute_url())
    assert ThreadRead.objects.get(user=user, thread=thread).last_position == answer.position


def test_a_moderator_counts_the_hidden_replies_they_are_shown(client, staff, category):
    thread = make_thread(category=category)
    client.force_login(staff)
    client.get(thread.get_absolute_url())
    hidden = make_post(thread=thread)
    hidden.is_hidden = True
    hidden.save(update_fields=["is_hidden"])
    assert "1 new reply</a>" in client.get("/forum/").content.decode()


def test_threads_never_opened_and_hidden_replies_count_as_nothing_new(client, user, category):
    opened, never = make_thread(category=category), make_thread(category=category)
    client.force_login(user)
    client.get(opened.get_absolute_url())
    make_post(thread=never)
    hidden = make_post(thread=opened)
    hidden.is_hidden = True
    hidden.save(update_fields=["is_hidden"])
    assert "new repl" not in client.get("/forum/").content.decode()


def test_the_api_lists_new_replies_for_the_caller(as_user, user, category):
    opened, never = make_thread(category=category, title="Opened"), make_thread(category=category, title="Never")
    mark_read(user=user, thread=opened, position=1, known=None)
    make_post(thread=opened), make_post(thread=opened), make_post(thread=never)
    rows = {t["title"]: t["new_replies"] for t in as_user.get("/api/v1/threads/").json()["results"]}
    assert rows == {"Opened": 2, "Never": None}


def test_a_reply_after_a_deleted_last_reply_takes_a_new_position_and_counts_as_new(client, user, staff, category):
    thread = make_thread(category=category)
    deleted = make_post(thread=thread)
    client.force_login(user)
    client.get(thread.get_absolute_url())  # read up to the reply about to go
    services.delete_post(user=staff, post=deleted)
    fresh = make_post(thread=thread)
    assert fresh.position == deleted.position + 1
    assert "1 new reply</a>" in client.get("/forum/").content.decode()


def _fell_behind_in(thread, user) -> None:
    mark_read(user=user, thread=thread, position=thread.highest_position, known=None)
    make_post(thread=thread)


def test_the_unread_tab_lists_the_threads_with_new_replies_and_counts_them(client, user, category):
    behind, caught_up = make_thread(category=category, title="Behind"), make_thread(category=category, title="Caught up")
    never = make_thread(category=category, title="Never opened")
    _fell_behind_in(behind, user)
    mark_read(user=user, thread=caught_up, position=1, known=None)
    make_post(thread=never)
    client.force_login(user)
    page = client.get("/forum/?tab=unread").content.decode()
    assert 'aria-current="page">Unread (1)</a>' in page
    assert "Behind" in page and "Caught up" not in page and "Never opened" not in page


def test_a_thread_whose_only_new_reply_was_hidden_is_not_unread(client, user, category):
    thread = make_thread(category=category, title="Quiet")
    mark_read(user=user, thread=thread, position=1, known=None)
    hidden = make_post(thread=thread)
    hidden.is_hidden = True
    hidden.save(update_fields=["is_hidden"])
    client.force_login(user)
    page = client.get(f"/forum/c/{category.slug}/?tab=unread").content.decode()
    assert "Nothing unread" in page and "Quiet" not in page


def test_the_new_tab_lists_recent_threads_the_member_has_not_opened(client, user, category):
    opened, fresh = make_thread(category=category, title="Opened"), make_thread(category=category, title="Fresh one")
    make_thread(category=category, author=user, title="My own")
    old = make_thread(category=category, title="Old news")
    Thread.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    mark_read(user=user, thread=opened, position=1, known=None)
    client.force_login(user)
    page = client.get("/forum/?tab=new").content.decode()
    assert 'aria-current="page">New (1)</a>' in page
    assert "Fresh one" in page and "Opened" not in page and "My own" not in page and "Old news" not in page
    client.get(fresh.get_absolute_url())  # opening it makes it not new
    assert "Nothing new" in client.get("/forum/?tab=new").content.decode()


def test_the_api_filters_the_callers_new_threads(as_user, user, category):
    make_thread(category=category, title="Fresh one")
    assert [t["title"] for t in as_user.get("/api/v1/threads/?new=true").json()["results"]] == ["Fresh one"]


def test_visitors_have_no_unread_tab_and_an_unknown_tab_lists_the_latest(client, category):
    make_thread(category=category, title="Visible")
    page = client.get("/forum/?tab=unread").content.decode()
    assert 'href="?tab=unread"' not in page
    assert 'aria-current="page">Latest</a>' in page and "Visible" in page


def test_the_api_filters_the_callers_unread_threads(as_user, user, category):
    behind, caught_up = make_thread(category=category, title="Behind"), make_thread(category=category, title="Caught up")
    _fell_behind_in(behind, user)
    mark_read(user=user, thread=caught_up, position=1, known=None)
    rows = as_user.get("/api/v1/threads/?unread=true").json()["results"]
    assert [(t["title"], t["new_replies"]) for t in rows] == [("Behind", 1)]
    assert len(as_user.get("/api/v1/threads/?unread=false").json()["results"]) == 2


def test_the_api_names_a_malformed_unread_filter(as_user):
    response = as_user.get("/api/v1/threads/?unread=yes")
    assert response.status_code == 400 and "unread" in response.json()


def test_the_api_marks_a_thread_read_to_its_last_post_by_default(as_user, user, category):
    thread = make_thread(category=category)
    _fell_behind_in(thread, user)
    response = as_user.post(f"/api/v1/threads/{thread.pk}/read/", {}, format="json")
    assert response.status_code == 200 and response.json()["new_replies"] == 0
    assert as_user.get("/api/v1/threads/?unread=true").json()["results"] == []


def test_the_api_marks_read_up_to_a_position_and_never_back(as_user, user, category):
    thread = make_thread(category=category)
    for _ in range(3):
        make_post(thread=thread)
    mark_read(user=user, thread=thread, position=2, known=None)
    assert as_user.post(f"/api/v1/threads/{thread.pk}/read/", {"position": 3}, format="json").json()["new_replies"] == 1
    assert as_user.post(f"/api/v1/threads/{thread.pk}/read/", {"position": 1}, format="json").json()["new_replies"] == 1
    assert as_user.post(f"/api/v1/threads/{thread.pk}/read/", {"position": 99}, format="json").json()["new_replies"] == 0
    assert ThreadRead.objects.get(user=user, thread=thread).last_position == 4  # the thread's last, not 99


@pytest.mark.parametrize("position", [0, -1, "x", 2**40, None])
def test_the_api_names_a_bad_read_position(as_user, category, position):
    thread = make_thread(category=category)
    response = as_user.post(f"/api/v1/threads/{thread.pk}/read/", {"position": position}, format="json")
    assert response.status_code == 400 and "position" in response.json()


def test_marking_read_needs_a_member_and_a_thread_they_may_see(client, as_user, category):
    thread = make_thread(category=category)
    assert client.post(f"/api/v1/threads/{thread.pk}/read/").status_code in (401, 403)
    Thread.objects.filter(pk=thread.pk).update(is_hidden=True)
    assert as_user.post(f"/api/v1/threads/{thread.pk}/read/", {}, format="json").status_code == 404


# --- views ---------------------------------------------------------------------------------------
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"


def _views(thread) -> int:
    return Thread.objects.values_list("view_count", flat=True).get(pk=thread.pk)


def test_a_reader_counts_once_a_day_and_each_reader_counts(client, user, other_user, category):
    thread = make_thread(category=category)
    client.force_login(user)
    client.get(thread.get_absolute_url(), HTTP_USER_AGENT=BROWSER)
    client.get(thread.get_absolute_url(), HTTP_USER_AGENT=BROWSER)
    assert _views(thread) == 1
    client.force_login(other_user)
    client.get(thread.get_absolute_url(), HTTP_USER_AGENT=BROWSER)
    client.logout()
    client.get(thread.get_absolute_url(), HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9")
    client.get(thread.get_absolute_url(), HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9")
    assert _views(thread) == 3


@pytest.mark.parametrize("agent", ["Googlebot/2.1", "facebookexternalhit/1.1 preview", "curl/8.5", ""])
def test_crawlers_and_scripts_are_not_readers(client, category, agent):
    thread = make_thread(category=category)
    client.get(thread.get_absolute_url(), HTTP_USER_AGENT=agent)
    assert _views(thread) == 0


def test_paging_on_and_a_head_check_are_not_new_views(client, category):
    thread = make_thread(category=category)
    for _ in range(25):
        make_post(thread=thread)
    client.head(thread.get_absolute_url(), HTTP_USER_AGENT=BROWSER)
    client.get(thread.get_absolute_url() + "?page=2", HTTP_USER_AGENT=BROWSER)
    assert _views(thread) == 0


def test_views_show_on_the_lists_the_page_and_the_api(client, category, settings):
    thread = make_thread(category=category, title="Counted")
    Thread.objects.filter(pk=thread.pk).update(view_count=1234)
    assert "1.2K</b>views" in client.get("/forum/").content.decode()
    assert "1234" in client.get(thread.get_absolute_url(), HTTP_USER_AGENT="bot").content.decode()
    assert client.get(f"/api/v1/threads/{thread.pk}/").json()["view_count"] == 1234


# --- suggested threads ---------------------------------------------------------------------------
def test_a_threads_last_page_suggests_its_categorys_threads_unread_first(client, user, category):
    current = make_thread(category=category, title="Current")
    behind = make_thread(category=category, title="Fell behind")
    _fell_behind_in(behind, user)
    make_thread(category=category, title="Newest")  # most recent activity, but nothing unread
    make_thread(category=CategoryFactory(), title="Elsewhere")
    client.force_login(user)
    page = client.get(current.get_absolute_url()).content.decode()
    suggested = page[page.index("Suggested threads"):]
    assert suggested.index("Fell behind") < suggested.index("Newest") and "Elsewhere" not in suggested
    assert ">Current<" not in suggested


def test_a_hidden_thread_is_not_suggested_and_earlier_pages_suggest_nothing(client, category):
    current = make_thread(category=category)
    hidden = make_thread(category=category, title="Taken down")
    Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)
    for _ in range(25):
        make_post(thread=current)
    assert "Suggested threads" not in client.get(current.get_absolute_url()).content.decode()
    last = client.get(current.get_absolute_url() + "?page=2").content.decode()
    assert "Suggested threads" not in last  # the only other thread is hidden


def test_what_members_write_counts_as_read_by_them(user, category):
    """However it was written (the API, or a page), a member's own thread and reply are not new to them."""
    thread = make_thread(author=user, category=category)
    assert ThreadRead.objects.get(user=user, thread=thread).last_position == 1
    other = make_thread(category=category)
    make_post(thread=other)
    make_post(thread=other, author=user)
    assert ThreadRead.objects.get(user=user, thread=other).last_position == 3


def test_dismissing_unread_marks_those_threads_read_to_their_last_post(client, user, category):
    thread = make_thread(category=category)
    mark_read(user=user, thread=thread, position=1, known=None)
    make_post(thread=thread), make_post(thread=thread)
    client.force_login(user)
    response = client.post("/forum/dismiss/", {"tab": "unread"})
    assert response.status_code == 302 and response["Location"] == "/forum/?tab=unread"
    assert ThreadRead.objects.get(user=user, thread=thread).last_position == 3


def test_dismissing_new_in_a_category_leaves_the_others_new(as_user, user, category):
    here, there = make_thread(category=category), make_thread(category=CategoryFactory(slug="elsewhere"))
    response = as_user.post("/api/v1/threads/dismiss/", {"tab": "new", "category": category.slug}, format="json")
    assert response.json() == {"dismissed": 1}
    assert list(Thread.objects.new_for(user)) == [there] and ThreadRead.objects.filter(user=user, thread=here).exists()


@pytest.mark.parametrize("data,field", [({"tab": "latest"}, "tab"), ({"tab": "new", "category": "no-such"}, "category"),
                                        ({"tab": "new", "category": "a\x00b"}, "category")])
def test_a_bad_dismiss_is_a_400_naming_the_field(as_user, data, field):
    response = as_user.post("/api/v1/threads/dismiss/", data, format="json")
    assert response.status_code == 400 and field in response.json()


def test_the_new_tab_offers_to_dismiss_its_threads(client, user, category):
    make_thread(category=category)
    client.force_login(user)
    assert 'data-testid="dismiss"' in client.get("/forum/?tab=new").content.decode()
    assert 'data-testid="dismiss"' not in client.get("/forum/?tab=latest").content.decode()
