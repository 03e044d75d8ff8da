"""The forum as a browser uses it: forms, HTMX fragments, moderation buttons."""
import pytest
from django.test import Client
from django.utils import timezone

from community import services
from community.models import Category, Post, Thread
from tests.conftest import client_for
from tests.factories import StaffFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def test_new_thread_form_creates_and_redirects(client, user, category):
    client.force_login(user)
    response = client.post("/forum/new/", {"title": "Hello", "category": category.pk, "kind": "question",
                                           "tags": "a, b", "body": "Body text"})
    thread = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == thread.get_absolute_url()
    assert sorted(thread.tags.values_list("name", flat=True)) == ["a", "b"]


def test_the_new_thread_form_names_categories_in_the_readers_language(client, user):
    Category.objects.create(slug="qa", name="Q&A", name_zh="问答")
    client.force_login(user)
    page = client.get("/forum/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">问答</option>" in page and ">Q&amp;A</option>" not in page


@pytest.mark.parametrize("language,replies,shown", [("en", 1, "1</b>reply<"), ("en", 2, "2</b>replies<"),
                                                   ("zh-hans", 1, "1</b>回复<")])
def test_a_threads_reply_count_reads_right_in_each_language(client, category, language, replies, shown):
    thread = make_thread(category=category)
    for _ in range(replies):
        make_post(thread=thread)
    assert shown in client.get("/forum/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_new_thread_form_errors_keep_input(client, user, category):
    client.force_login(user)
    response = client.post("/forum/new/", {"title": "", "category": category.pk, "kind": "question", "body": "kept text"})
    assert response.status_code == 200 and "kept text" in response.content.decode()
    assert not Thread.objects.exists()


def test_a_reply_names_and_links_the_post_it_answers_in_plain_text(client, category):
    thread = make_thread(category=category)
    answered = make_post(thread=thread, body="It does **scale** & <b>more</b>")
    make_post(thread=thread, body="Agreed", reply_to=answered)
    page = client.get(thread.get_absolute_url()).content.decode()
    assert f'<a href="?post={answered.pk}#post-{answered.pk}">In reply to' in page
    assert "</a>: It does scale &amp; &lt;b&gt;more&lt;/b&gt;</div>" in page  # as written, less the Markdown


def test_a_lists_latest_link_opens_the_page_with_the_last_reply(client, category):
    thread = make_thread(category=category)
    for n in range(22):  # two pages of replies
        make_post(thread=thread, body=f"Reply number {n}")
    assert f'href="{thread.get_absolute_url()}?post=last#latest"' in client.get("/forum/").content.decode()
    page = client.get(thread.get_absolute_url(), {"post": "last"}).content.decode()
    assert "Reply number 21" in page and "Reply number 0<" not in page and 'id="latest"' in page


def test_htmx_vote_returns_the_vote_fragment(client, user, category):
    post = make_thread(category=category).posts.first()
    client.force_login(user)
    response = client.post(f"/forum/p/{post.pk}/vote/", {"value": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="vote-{post.pk}"' in response.content.decode() and ">1<" in response.content.decode()
    assert '<dd id="thread-score" hx-swap-oob="true">1</dd>' in response.content.decode()  # the sidebar's too


def test_a_vote_on_a_reply_leaves_the_threads_score_alone(client, user, category):
    reply = make_post(thread=make_thread(category=category))
    client.force_login(user)
    response = client.post(f"/forum/p/{reply.pk}/vote/", {"value": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "thread-score" not in response.content.decode()


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


def test_the_revisions_page_marks_what_each_edit_changed(client, user, category):
    thread = make_thread(author=user, category=category, body="first version")
    services.edit_post(editor=user, post=thread.posts.first(), body="second version")
    page = client.get(f"/forum/p/{thread.posts.first().pk}/revisions/").content.decode()
    assert "<del>first</del><ins>second</ins> version" in page


def test_chinese_edits_are_marked_character_by_character(client, user, category):
    thread = make_thread(author=user, category=category, body="我喜欢绿茶")
    services.edit_post(editor=user, post=thread.posts.first(), body="我喜欢红茶")
    page = client.get(f"/forum/p/{thread.posts.first().pk}/revisions/").content.decode()
    assert "我喜欢<del>绿</del><ins>红</ins>茶" in page


def _edited(user, category, times: int):
    thread = make_thread(author=user, category=category, body="v1")
    opening = thread.posts.first()
    for n in range(2, times + 2):
        services.edit_post(editor=user, post=opening, body=f"v{n}")
    return opening


def test_revisions_are_paged_and_each_page_compares_across_its_edge(client, user, category):
    opening = _edited(user, category, 25)
    first = client.get(f"/forum/p/{opening.pk}/revisions/").content.decode()
    second = client.get(f"/forum/p/{opening.pk}/revisions/?page=2").content.decode()
    assert "Edit 25" in first and "Edit 6" in first and "Edit 5" not in first
    assert "Edit 5" in second and "<del>v5</del><ins>v6</ins>" in second and "Edit 6" not in second


@pytest.mark.parametrize("edits", [3, 25])
def test_the_revisions_page_query_count_is_flat(client, user, category, django_assert_max_num_queries, edits):
    opening = _edited(user, category, edits)
    with django_assert_max_num_queries(12):
        assert client.get(f"/forum/p/{opening.pk}/revisions/").status_code == 200


def test_a_moderator_redacts_a_version_and_no_diff_shows_it(client, user, staff, category):
    thread = make_thread(author=user, category=category, body="call me at 555-0100")
    opening = thread.posts.first()
    services.edit_post(editor=user, post=opening, body="call me here")
    services.edit_post(editor=user, post=opening, body="call me on the forum")
    leaked = opening.revisions.get(number=1)  # the version with the number
    moderator = Client()
    moderator.force_login(staff)
    moderator.post(f"/forum/revisions/{leaked.pk}/redact/", {"hidden": "1"})
    page = client.get(f"/forum/p/{opening.pk}/revisions/").content.decode()
    assert "555-0100" not in page and page.count('data-testid="redacted"') == 1
    assert "555-0100" in moderator.get(f"/forum/p/{opening.pk}/revisions/").content.decode()
    client.force_login(user)
    assert client.post(f"/forum/revisions/{leaked.pk}/redact/", {"hidden": "0"}).status_code == 403


def test_the_newest_edit_comes_first_and_a_retitle_is_marked(client, user, category):
    thread = make_thread(author=user, category=category, title="Frist title", body="one")
    opening = thread.posts.first()
    services.edit_post(editor=user, post=opening, body="two")
    services.edit_post(editor=user, post=opening, body="two", title="First title")
    page = client.get(f"/forum/p/{opening.pk}/revisions/").content.decode()
    assert page.index("Edit 2") < page.index("Edit 1")
    assert "<del>Frist</del><ins>First</ins> title" in page and "<del>one</del><ins>two</ins>" in page


def test_a_hostile_body_in_a_revision_is_shown_as_text(client, user, category):
    thread = make_thread(author=user, category=category, body="<script>alert(1)</script>")
    services.edit_post(editor=user, post=thread.posts.first(), body="clean")
    page = client.get(f"/forum/p/{thread.posts.first().pk}/revisions/").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page


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


def test_a_threads_activity_leaves_out_hidden_posts(client, category):
    thread = make_thread(category=category)
    hidden = make_post(thread=thread)
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    page = client.get(thread.get_absolute_url()).content.decode()
    assert 'aria-label="1 post in the last 30 days"' in page


def test_sparkline_label_is_escaped():
    from core.charts import sparkline

    assert "<script>" not in sparkline([1, 2], label="<script>")


def test_a_tag_with_a_slash_has_working_pages(client, category):
    thread = make_thread(category=category, tags=["tcp/ip"])
    assert client.get(thread.get_absolute_url()).status_code == 200
    assert client.get("/forum/").status_code == 200
    assert thread.title in client.get("/forum/tag/tcp/ip/").content.decode()


def test_a_new_members_day_cap_says_the_wait_in_hours_not_seconds(client, category, settings):
    settings.FORUM_RATE_LIMITS = {**settings.FORUM_RATE_LIMITS, "new_user_thread_interval_s": 0,
                                  "new_user_max_threads_per_day": 1}
    newbie = UserFactory(date_joined=timezone.now())
    client.force_login(newbie)
    form = {"title": "Hello", "category": category.pk, "kind": "discussion", "body": "Body text"}
    client.post("/forum/new/", form)
    page = client.post("/forum/new/", form).content.decode()
    assert "Please try again in 23" in page and "hours" in page and "seconds" not in page


def test_a_reply_refused_by_a_lock_keeps_its_text_to_copy(client, user, category):
    thread = make_thread(category=category)
    Thread.objects.filter(pk=thread.pk).update(is_locked=True)
    client.force_login(user)
    page = client.post(f"/forum/t/{thread.pk}/reply/", {"body": "my long & careful reply"}).content.decode()
    assert "locked" in page and ">my long &amp; careful reply</textarea>" in page


def test_the_page_after_a_reply_went_through_says_so_once(client, user, category):
    """It names the draft the browser may forget; a refused reply names none (its draft stays)."""
    thread = make_thread(category=category)
    client.force_login(user)
    page = client.post(f"/forum/t/{thread.pk}/reply/", {"body": "Sent"}, follow=True).content.decode()
    assert f'data-draft-sent="{user.pk}:reply-{thread.pk}"' in page
    assert "data-draft-sent" not in client.get(thread.get_absolute_url()).content.decode()
    Thread.objects.filter(pk=thread.pk).update(is_locked=True)
    assert "data-draft-sent" not in client.post(f"/forum/t/{thread.pk}/reply/", {"body": "Refused"}).content.decode()


def test_opening_the_reply_address_leads_to_the_thread(client, user, category):
    """Where signing in again after a session ended mid-reply leads (the sign-in's `next`)."""
    thread = make_thread(category=category)
    client.force_login(user)
    response = client.get(f"/forum/t/{thread.pk}/reply/")
    assert response.status_code == 302 and response["Location"] == thread.get_absolute_url()


def test_the_notifications_page_shows_new_ones_as_new_and_the_bell_counts_none(client, user, category):
    make_post(thread=make_thread(author=user, category=category))
    client.force_login(user)
    page = client.get("/forum/notifications/").content.decode()
    assert 'data-testid="unread"' not in page  # the bell: nothing left unread
    assert '<span class="state pinned">New</span>' in page


def test_mark_all_read_clears_the_notifications_on_pages_not_opened(client, user, category):
    thread = make_thread(author=user, category=category)
    for _ in range(32):
        make_post(thread=thread)
    client.force_login(user)
    page = client.get("/forum/notifications/").content.decode()  # the first 30 are read on sight
    assert "Mark all read (2 more)" in page and 'data-testid="unread">2<' in page
    assert client.post("/forum/notifications/")["Location"] == "/forum/notifications/"
    assert not user.notifications.filter(read=False).exists()
    assert "Mark all read" not in client.get("/forum/notifications/").content.decode()


@pytest.mark.parametrize(("tab", "says"), [("unanswered", "No unanswered questions"), ("solved", "No solved questions")])
def test_an_empty_tab_says_what_it_lists(client, category, tab, says):
    page = client.get(f"/forum/?tab={tab}").content.decode()
    assert says in page and "start one" not in page


def test_an_empty_forum_asks_a_visitor_to_log_in_first(client, category):
    page = client.get("/forum/").content.decode()
    assert "Log in to start one" in page and 'href="/forum/new/' not in page


def test_log_in_links_come_back_to_the_same_page_of_a_thread(client, category):
    thread = make_thread(category=category)
    page = client.get(thread.get_absolute_url() + "?page=2").content.decode()
    assert f"?next={thread.get_absolute_url()}%3Fpage%3D2" in page


def test_bookmarks_list_what_i_bookmarked_newest_first(client, user, category):
    older, newer, other = (make_thread(category=category, title=t) for t in ("Older mark", "Newer mark", "Unmarked"))
    services.set_bookmark(user=user, thread=older, marked=True)
    services.set_bookmark(user=user, thread=newer, marked=True)
    services.set_bookmark(user=UserFactory(), thread=other, marked=True)
    client.force_login(user)
    page = client.get("/forum/bookmarks/").content.decode()
    assert page.index("Newer mark") < page.index("Older mark") and "Unmarked" not in page


def test_a_bookmarked_thread_hidden_since_leaves_the_list(client, user, category):
    thread = make_thread(category=category, title="Gone quiet")
    services.set_bookmark(user=user, thread=thread, marked=True)
    Thread.objects.filter(pk=thread.pk).update(is_hidden=True)
    client.force_login(user)
    assert "Gone quiet" not in client.get("/forum/bookmarks/").content.decode()


def test_bookmarks_need_an_account(client):
    assert client.get("/forum/bookmarks/").status_code == 302


def test_editing_the_opening_post_changes_the_threads_tags_and_kind(client, user, category):
    thread = make_thread(author=user, category=category, tags=["old"])
    client.force_login(user)
    opening = thread.posts.get(position=1)
    assert 'value="old"' in client.get(f"/forum/p/{opening.pk}/edit/").content.decode()
    client.post(f"/forum/p/{opening.pk}/edit/", {"title": thread.title, "kind": "question",
                                                  "tags": "new, 微调", "body": opening.body})
    thread.refresh_from_db()
    assert thread.kind == "question" and sorted(thread.tags.values_list("name", flat=True)) == ["new", "微调"]


def test_a_title_only_edit_is_kept_as_a_revision(client, user, category):
    thread = make_thread(author=user, category=category, title="Frist title")
    client.force_login(user)
    opening = thread.posts.get(position=1)
    client.post(f"/forum/p/{opening.pk}/edit/", {"title": "First title", "kind": thread.kind, "tags": "",
                                                  "body": opening.body})
    opening.refresh_from_db()
    assert opening.edited_at is not None and opening.revisions.get().title == "Frist title"
    assert "<del>Frist</del><ins>First</ins> title" in client.get(f"/forum/p/{opening.pk}/revisions/").content.decode()


def test_a_reply_is_deleted_after_a_confirmation_page(client, user, category):
    thread = make_thread(category=category)
    reply = make_post(thread=thread, author=user, body="regrettable")
    client.force_login(user)
    assert "regrettable" in client.get(f"/forum/p/{reply.pk}/delete/").content.decode()
    response = client.post(f"/forum/p/{reply.pk}/delete/")
    assert response["Location"] == thread.get_absolute_url() and not thread.posts.filter(pk=reply.pk).exists()


def test_an_author_deletes_their_unanswered_thread_and_lands_on_its_category(client, user, category):
    thread = make_thread(author=user, category=category)
    client.force_login(user)
    assert 'href="/forum/p/%d/delete/"' % thread.posts.get(position=1).pk in client.get(thread.get_absolute_url()).content.decode()
    response = client.post(f"/forum/p/{thread.posts.get(position=1).pk}/delete/")
    assert response["Location"] == category.get_absolute_url() and not Thread.objects.exists()


def test_an_author_gets_no_delete_for_a_thread_others_replied_to(client, user, category):
    thread = make_thread(author=user, category=category)
    make_post(thread=thread)
    client.force_login(user)
    opening = thread.posts.get(position=1)
    assert f"/forum/p/{opening.pk}/delete/" not in client.get(thread.get_absolute_url()).content.decode()
    assert client.post(f"/forum/p/{opening.pk}/delete/").status_code == 403
    assert Thread.objects.filter(pk=thread.pk).exists()


def test_the_accepted_answer_leads_the_replies_under_their_count(client, user, category):
    question = make_thread(author=user, category=category, kind="question")
    answer, other = make_post(thread=question, body="the answer"), make_post(thread=question, body="another")
    services.accept_answer(user=user, thread=question, post=answer)
    page = client.get(question.get_absolute_url()).content.decode()
    heading, accepted, rest = page.index("2 replies"), page.index(f'id="post-{answer.pk}"'), page.index(f'id="post-{other.pk}"')
    assert heading < accepted < rest and page.count(f'id="post-{answer.pk}"') == 1


def test_a_category_the_site_starts_threads_in_is_not_offered_to_members(client, user):
    Category.objects.create(slug="hub-discussions", name="Hub discussions", members_start_threads=False)
    Category.objects.create(slug="general", name="General")
    client.force_login(user)
    page = client.get("/forum/new/").content.decode()
    assert "General" in page and "Hub discussions" not in page
    assert "New thread" not in client.get("/forum/c/hub-discussions/").content.decode()


def test_a_member_cannot_start_a_thread_where_the_site_does(user):
    category = Category.objects.create(slug="hub-discussions", name="Hub discussions", members_start_threads=False)
    response = client_for(user).post("/api/v1/threads/", {"category": category.slug, "title": "Mine",
                                                          "body": "hello"}, format="json")
    assert response.status_code == 400 and "category" in response.json()
    assert not Thread.objects.exists()


def test_the_tags_page_counts_each_tags_visible_threads_most_used_first(client, category):
    make_thread(category=category, tags=["lora", "qwen"])
    make_thread(category=category, tags=["lora"])
    hidden = make_thread(category=category, tags=["secret"])
    Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)
    page = client.get("/forum/tags/").content.decode()
    assert page.index(">lora<") < page.index(">qwen<") and "× 2" in page and "secret" not in page
    by_name = client.get("/forum/tags/?sort=name").content.decode()
    assert by_name.index(">lora<") < by_name.index(">qwen<") and 'href="/forum/tag/qwen/"' in by_name


def test_the_tags_page_says_when_there_are_none(client, category):
    make_thread(category=category)
    assert "No tags yet" in client.get("/forum/tags/").content.decode()


def test_a_posts_reply_link_opens_the_reply_box_answering_it(client, user, category):
    thread = make_thread(category=category)
    reply = make_post(thread=thread, author=UserFactory(username="bob"))
    client.force_login(user)
    page = client.get(thread.get_absolute_url()).content.decode()
    assert f'href="?post={reply.pk}&amp;reply_to={reply.pk}#reply-form"' in page
    page = client.get(thread.get_absolute_url(), {"post": reply.pk, "reply_to": reply.pk}).content.decode()
    assert f'name="reply_to" value="{reply.pk}"' in page and "<strong data-reply-name>bob</strong>" in page


def test_a_reply_link_to_a_post_of_another_thread_answers_the_thread(client, user, category):
    thread, elsewhere = make_thread(category=category), make_post(thread=make_thread(category=category))
    client.force_login(user)
    page = client.get(thread.get_absolute_url(), {"reply_to": elsewhere.pk}).content.decode()
    assert f'value="{elsewhere.pk}"' not in page and "data-replying-to hidden" in page
