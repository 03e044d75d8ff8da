import pytest

from community.models import Post, Thread
from tests.conftest import client_for
from tests.factories import StaffFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def new_thread_payload(cat, **overrides):
    return {"title": "How to fine-tune?", "body": "Details **here**", "category": cat.slug,
            "tags": ["lora", "fine-tuning"], "kind": "question", **overrides}


def test_create_thread_returns_it_with_its_first_post(as_user, user, category):
    response = as_user.post("/api/v1/threads/", new_thread_payload(category), format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["author"] == user.username and data["category"] == category.slug
    assert data["tags"] == ["fine-tuning", "lora"]
    assert data["first_post"]["body_html"] == "<p>Details <strong>here</strong></p>\n"
    assert data["url"].startswith(f"/forum/t/{data['id']}/")
    assert {"id", "title", "slug", "kind", "created_at", "last_activity_at", "reply_count", "score",
            "is_pinned", "is_locked", "accepted_post", "url"} <= set(data)


def test_anonymous_cannot_post(api, category):
    assert api.post("/api/v1/threads/", new_thread_payload(category), format="json").status_code == 401


@pytest.mark.parametrize("field,value", [("title", ""), ("body", ""), ("category", "nope"), ("kind", "poll"),
                                         ("tags", ["a", "b", "c", "d", "e", "f"]), ("body", "x" * 64_001),
                                         ("tags", "not-a-list")])
def test_bad_thread_input_is_a_400_naming_the_field(as_user, category, field, value):
    response = as_user.post("/api/v1/threads/", new_thread_payload(category, **{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Thread.objects.exists()


def test_reply_and_list_posts(as_other, category):
    thread = make_thread(category=category)
    response = as_other.post(f"/api/v1/threads/{thread.pk}/posts/", {"body": "Try LoRA"}, format="json")
    assert response.status_code == 201
    posts = as_other.get(f"/api/v1/threads/{thread.pk}/posts/").json()["results"]
    assert [p["body"] for p in posts] == ["Hello **world**", "Try LoRA"]
    thread.refresh_from_db()
    assert thread.reply_count == 1


def test_reply_to_a_post_of_another_thread_is_400(as_user, category):
    a, b = make_thread(category=category), make_thread(category=category)
    other_post = b.posts.first()
    response = as_user.post(f"/api/v1/threads/{a.pk}/posts/", {"body": "x", "reply_to": other_post.pk}, format="json")
    assert response.status_code == 400 and "reply_to" in response.json()


def test_locked_thread_takes_no_new_posts(as_user, category, staff):
    thread = make_thread(category=category)
    client_for(staff).post(f"/api/v1/threads/{thread.pk}/moderate/", {"action": "lock"}, format="json")
    assert as_user.post(f"/api/v1/threads/{thread.pk}/posts/", {"body": "hi"}, format="json").status_code == 403
    assert client_for(staff).post(f"/api/v1/threads/{thread.pk}/posts/", {"body": "hi"}, format="json").status_code == 201


# --- the permission matrix: anonymous, author, other member, staff × each write ------------------
WRITES = [
    ("patch_thread", lambda c, t, p: c.patch(f"/api/v1/threads/{t.pk}/", {"title": "New"}, format="json")),
    ("patch_post", lambda c, t, p: c.patch(f"/api/v1/posts/{p.pk}/", {"body": "changed"}, format="json")),
    ("delete_post", lambda c, t, p: c.delete(f"/api/v1/posts/{p.pk}/")),
    ("delete_thread", lambda c, t, p: c.delete(f"/api/v1/threads/{t.pk}/")),
    ("moderate", lambda c, t, p: c.post(f"/api/v1/threads/{t.pk}/moderate/", {"action": "pin"}, format="json")),
    ("accept", lambda c, t, p: c.post(f"/api/v1/threads/{t.pk}/accept/", {"post": p.pk}, format="json")),
]
EXPECTED = {  # who: (patch_thread, patch_post, delete_post, delete_thread, moderate, accept)
    "anonymous": (401, 401, 401, 401, 401, 401),
    "author": (200, 200, 204, 403, 403, 200),  # not a thread others have replied to
    "other": (403, 403, 403, 403, 403, 403),
    "staff": (200, 200, 204, 204, 200, 200),
}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("index", range(len(WRITES)))
def test_permission_matrix(who, index, category):
    author = UserFactory()
    thread = make_thread(author=author, category=category, kind="question")
    answer = make_post(thread=thread)
    target = answer if WRITES[index][0] in ("delete_post", "accept") else thread.posts.get(position=1)
    if WRITES[index][0] == "patch_post" and who == "author":
        target = thread.posts.get(position=1)
    client = {"anonymous": lambda: client_for(None), "author": lambda: client_for(author),
              "other": lambda: client_for(UserFactory()), "staff": lambda: client_for(StaffFactory())}[who]()
    if who == "author" and WRITES[index][0] == "delete_post":
        target = make_post(thread=thread, author=author)
    response = WRITES[index][1](client, thread, target)
    assert response.status_code == EXPECTED[who][index], response.content


def test_an_author_may_delete_their_thread_while_nobody_else_has_replied(category):
    author = UserFactory()
    thread = make_thread(author=author, category=category)
    make_post(thread=thread, author=author)  # their own follow-up does not count
    assert client_for(author).delete(f"/api/v1/threads/{thread.pk}/").status_code == 204


def test_deleting_a_thread_others_replied_to_is_for_moderators(category):
    author = UserFactory()
    thread = make_thread(author=author, category=category)
    make_post(thread=thread)
    response = client_for(author).delete(f"/api/v1/posts/{thread.posts.get(position=1).pk}/")
    assert response.status_code == 403 and "moderator" in response.json()["detail"]
    assert Thread.objects.filter(pk=thread.pk).exists()


def test_edit_keeps_every_revision(as_user, user, category):
    thread = make_thread(author=user, category=category)
    post = thread.posts.first()
    as_user.patch(f"/api/v1/posts/{post.pk}/", {"body": "second"}, format="json")
    as_user.patch(f"/api/v1/posts/{post.pk}/", {"body": "third"}, format="json")
    post.refresh_from_db()
    assert post.body == "third" and post.edited_at is not None
    assert list(post.revisions.values_list("body", flat=True)) == ["Hello **world**", "second"]


def test_hidden_thread_is_visible_only_to_staff_and_its_author(category, user, staff):
    thread = make_thread(author=user, category=category)
    client_for(staff).post(f"/api/v1/threads/{thread.pk}/moderate/", {"action": "hide"}, format="json")
    assert client_for(None).get(f"/api/v1/threads/{thread.pk}/").status_code == 404
    assert client_for(UserFactory()).get(f"/api/v1/threads/{thread.pk}/").status_code == 404
    assert client_for(user).get(f"/api/v1/threads/{thread.pk}/").status_code == 200
    assert client_for(staff).get(f"/api/v1/threads/{thread.pk}/").status_code == 200


def test_move_to_another_category_updates_counts(as_staff, category):
    from tests.factories import CategoryFactory

    target = CategoryFactory(slug="other")
    thread = make_thread(category=category)
    response = as_staff.post(f"/api/v1/threads/{thread.pk}/moderate/", {"action": "move", "category": "other"},
                             format="json")
    assert response.json()["category"] == "other"
    category.refresh_from_db(), target.refresh_from_db()
    assert (category.thread_count, target.thread_count) == (0, 1)


def test_list_filters_by_category_tag_and_kind(api, category):
    from tests.factories import CategoryFactory

    make_thread(category=category, title="Q", kind="question", tags=["gpu"])
    make_thread(category=CategoryFactory(slug="x"), title="D", tags=["cpu"])
    titles = lambda q: [t["title"] for t in api.get(f"/api/v1/threads/?{q}").json()["results"]]  # noqa: E731
    assert titles("category=general") == ["Q"]
    assert titles("tag=cpu") == ["D"]
    assert titles("kind=question") == ["Q"]
    assert api.get("/api/v1/threads/?kind=poll").status_code == 400


def test_page_size_is_capped_at_100(api, category):
    response = api.get("/api/v1/threads/?page_size=1000")
    assert response.status_code == 200


def test_delete_post_updates_reply_count(as_user, user, category):
    thread = make_thread(category=category)
    post = make_post(thread=thread, author=user)
    assert as_user.delete(f"/api/v1/posts/{post.pk}/").status_code == 204
    thread.refresh_from_db()
    assert thread.reply_count == 0 and not Post.objects.filter(pk=post.pk).exists()


# --- watching, bookmarks and the tabs' filters ---------------------------------------------------
def test_a_new_thread_is_watched_by_its_author(as_user, category):
    data = as_user.post("/api/v1/threads/", new_thread_payload(category), format="json").json()
    assert data["is_watching"] is True and data["is_bookmarked"] is False


def test_watching_through_the_api_shows_on_the_thread(as_user, category):
    thread = make_thread(category=category)
    assert as_user.post(f"/api/v1/threads/{thread.pk}/watch/", {"watching": True}, format="json").json()["is_watching"]
    assert as_user.get(f"/api/v1/threads/{thread.pk}/").json()["is_watching"] is True
    assert as_user.post(f"/api/v1/threads/{thread.pk}/watch/", {"watching": False},
                        format="json").json()["is_watching"] is False


def test_bookmarks_are_listed_with_bookmarked_true(as_user, category):
    marked, other = make_thread(category=category, title="Marked"), make_thread(category=category, title="Other")
    assert as_user.post(f"/api/v1/threads/{marked.pk}/bookmark/", {"bookmarked": True},
                        format="json").json()["is_bookmarked"] is True
    rows = as_user.get("/api/v1/threads/?bookmarked=true").json()["results"]
    assert [(t["title"], t["is_bookmarked"]) for t in rows] == [("Marked", True)]
    assert {t["title"] for t in as_user.get("/api/v1/threads/?bookmarked=false").json()["results"]} == {
        "Marked", other.title}


def test_a_visitor_has_no_bookmarks_and_watches_nothing(api, category):
    make_thread(category=category)
    assert api.get("/api/v1/threads/?bookmarked=true").json()["results"] == []
    assert api.get("/api/v1/threads/").json()["results"][0]["is_watching"] is False


def test_the_unanswered_and_solved_filters_match_the_pages_tabs(as_user, user, category):
    open_question = make_thread(category=category, kind="question", title="Open")
    answered = make_thread(author=user, category=category, kind="question", title="Answered")
    reply = make_post(thread=answered)
    make_thread(category=category, title="A discussion")
    as_user.post(f"/api/v1/threads/{answered.pk}/accept/", {"post": reply.pk}, format="json")
    assert [t["title"] for t in as_user.get("/api/v1/threads/?unanswered=true").json()["results"]] == [
        open_question.title]
    assert [t["title"] for t in as_user.get("/api/v1/threads/?solved=true").json()["results"]] == ["Answered"]


@pytest.mark.parametrize("name", ["bookmarked", "unanswered", "solved", "unread"])
def test_a_malformed_list_flag_is_a_400_naming_it(as_user, name):
    response = as_user.get(f"/api/v1/threads/?{name}=1")
    assert response.status_code == 400 and name in response.json()


@pytest.mark.parametrize("action,body", [("watch", {}), ("watch", {"watching": "maybe"}), ("bookmark", {}),
                                         ("bookmark", {"bookmarked": None})])
def test_watch_and_bookmark_name_a_bad_body(as_user, category, action, body):
    thread = make_thread(category=category)
    response = as_user.post(f"/api/v1/threads/{thread.pk}/{action}/", body, format="json")
    assert response.status_code == 400 and set(response.json()) == {"watching" if action == "watch" else "bookmarked"}


@pytest.mark.parametrize("action", ["watch", "bookmark"])
def test_watch_and_bookmark_need_a_member_and_a_visible_thread(api, as_user, category, action):
    thread = make_thread(category=category)
    assert api.post(f"/api/v1/threads/{thread.pk}/{action}/", {}, format="json").status_code == 401
    Thread.objects.filter(pk=thread.pk).update(is_hidden=True)
    assert as_user.post(f"/api/v1/threads/{thread.pk}/{action}/", {"watching": True, "bookmarked": True},
                        format="json").status_code == 404
