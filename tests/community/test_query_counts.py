"""Every list costs a fixed number of queries, whatever its length (checked at two sizes)."""
import pytest

from community import services
from community.reading import mark_read
from tests.factories import UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def fill_thread(thread, n):
    for i in range(n):
        make_post(thread=thread, author=UserFactory(), body=f"reply {i} @{thread.author.username}")


@pytest.mark.parametrize("replies", [5, 40])
def test_thread_page(client, user, category, replies, django_assert_max_num_queries):
    thread = make_thread(category=category, tags=["a", "b"])
    fill_thread(thread, replies)
    for i in range(replies // 5):  # suggested under its last page, each with tags
        make_thread(category=category, tags=["a", f"s{i}"])
    client.force_login(user)
    with django_assert_max_num_queries(16):
        assert client.get(thread.get_absolute_url() + "?post=last").status_code == 200


@pytest.mark.parametrize("replies", [5, 40])
def test_posts_endpoint(as_user, category, replies, django_assert_max_num_queries):
    thread = make_thread(category=category)
    fill_thread(thread, replies)
    with django_assert_max_num_queries(8):
        assert as_user.get(f"/api/v1/threads/{thread.pk}/posts/?page_size=100").status_code == 200


@pytest.mark.parametrize("threads", [5, 40])
def test_bookmarks_page(client, user, category, threads, django_assert_max_num_queries):
    for i in range(threads):
        services.set_bookmark(user=user, thread=make_thread(category=category, tags=["x", f"t{i}"]), marked=True)
    client.force_login(user)
    with django_assert_max_num_queries(10):
        assert client.get("/forum/bookmarks/").status_code == 200


@pytest.mark.parametrize("threads", [5, 40])
def test_thread_list_endpoint_and_pages(client, api, category, threads, django_assert_max_num_queries):
    for i in range(threads):
        make_thread(category=category, title=f"Thread {i}", tags=["x", f"t{i}"])
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/threads/?page_size=100").status_code == 200
    for path in ["/forum/", f"/forum/c/{category.slug}/", "/forum/tag/x/", "/"]:
        with django_assert_max_num_queries(12):
            assert client.get(path).status_code == 200


@pytest.mark.parametrize("threads", [3, 12])
def test_unread_tab(client, user, category, threads, django_assert_max_num_queries):
    for i in range(threads):
        thread = make_thread(category=category, tags=["x", f"t{i}"])
        mark_read(user=user, thread=thread, position=1, known=None)
        make_post(thread=thread)
    client.force_login(user)
    with django_assert_max_num_queries(12):
        assert f"Unread ({threads})" in client.get("/forum/?tab=unread").content.decode()


@pytest.mark.parametrize("n", [5, 40])
def test_notifications_and_search(user, category, n, django_assert_max_num_queries):
    from tests.conftest import client_for

    thread = make_thread(author=user, category=category, title="searchable words")
    fill_thread(thread, n)
    client = client_for(user)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/notifications/?page_size=100").status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/search/?q=reply&page_size=100").status_code == 200


@pytest.mark.parametrize("threads", [3, 12])  # the home page shows the latest 8
def test_home_page(client, user, category, threads, django_assert_max_num_queries):
    for i in range(threads):
        thread = make_thread(category=category, tags=["x", f"t{i}"])
        client.force_login(user)
        client.get(thread.get_absolute_url())  # read: its row counts new replies
        make_post(thread=thread)
    with django_assert_max_num_queries(7):
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("threads", [3, 30])
def test_tags_page(client, category, threads, django_assert_max_num_queries):
    for i in range(threads):
        make_thread(category=category, tags=["shared", f"t{i}"])
    with django_assert_max_num_queries(4):
        assert "shared" in client.get("/forum/tags/").content.decode()


@pytest.mark.parametrize("n", [5, 40])
def test_filtered_search_page(client, user, category, n, django_assert_max_num_queries):
    thread = make_thread(author=user, category=category, title="searchable words")
    for _ in range(n):
        make_post(thread=thread, author=user)
    with django_assert_max_num_queries(8):
        page = client.get("/forum/search/", {"author": user.username, "category": category.slug}).content.decode()
    assert f"{n + 1} results" in page
