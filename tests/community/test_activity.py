"""A member's activity pages: every thread and reply, a page at a time, as the viewer may see them."""
import pytest

from community.models import Thread
from tests.factories import UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def test_the_profile_links_to_all_threads_past_its_twenty(client, category):
    author = UserFactory(username="prolific")
    for i in range(21):
        make_thread(category=category, author=author, title=f"Thread number {i}")
    page = client.get("/u/prolific/").content.decode()
    assert 'href="/u/prolific/threads/"' in page and "Thread number 0<" not in page
    listed = client.get("/u/prolific/threads/").content.decode()
    assert "Thread number 0<" in listed and "Thread number 20<" in listed


def test_replies_are_paged_and_hidden_ones_left_out(client, category):
    author = UserFactory(username="talker")
    thread = make_thread(category=category)
    for i in range(31):
        make_post(thread=thread, author=author, body=f"reply {i}")
    hidden = make_post(thread=thread, author=author, body="hidden one")
    hidden.is_hidden = True
    hidden.save(update_fields=["is_hidden"])
    first = client.get("/u/talker/replies/").content.decode()
    second = client.get("/u/talker/replies/?page=2").content.decode()
    assert "reply 30" in first and "reply 0" in second and "hidden one" not in first + second


def test_a_hidden_thread_is_not_listed_to_others(client, category):
    author = UserFactory(username="quiet")
    thread = make_thread(category=category, author=author, title="Taken down")
    Thread.objects.filter(pk=thread.pk).update(is_hidden=True)
    assert "Taken down" not in client.get("/u/quiet/threads/").content.decode()


@pytest.mark.parametrize("n", [3, 40])
def test_activity_pages_query_count_is_flat(client, category, django_assert_max_num_queries, n):
    author = UserFactory(username="counted")
    thread = make_thread(category=category, author=author)
    for _ in range(n):
        make_thread(category=category, author=author)
        make_post(thread=thread, author=author)
    with django_assert_max_num_queries(8):
        assert client.get("/u/counted/threads/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/u/counted/replies/").status_code == 200


def test_the_owner_is_offered_all_their_threads_even_when_some_are_hidden(client, category):
    author = UserFactory(username="partly")
    threads = [make_thread(category=category, author=author) for _ in range(22)]
    Thread.objects.filter(pk__in=[t.pk for t in threads[:3]]).update(is_hidden=True)  # 19 public, 22 theirs
    client.force_login(author)
    assert 'href="/u/partly/threads/"' in client.get("/u/partly/").content.decode()
