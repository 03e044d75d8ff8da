"""Read state: a member's lists count the replies they have not seen in threads they opened."""
import pytest

from community.models import ThreadRead
from community.reading import mark_read
from tests.factories import make_post, make_thread

pytestmark = pytest.mark.django_db


def test_read_state_only_moves_forward(user, category):
    thread = make_thread(category=category)
    mark_read(user=user, thread=thread, position=5)
    mark_read(user=user, thread=thread, position=3)  # an older page read again
    assert ThreadRead.objects.get(user=user, thread=thread).last_position == 5


def test_a_list_counts_the_replies_since_the_member_last_read(client, user, category):
    thread = make_thread(category=category)
    make_post(thread=thread)
    client.force_login(user)
    client.get(thread.get_absolute_url())
    first_new = make_post(thread=thread)
    make_post(thread=thread)
    page = client.get("/forum/").content.decode()
    assert f'href="{thread.get_absolute_url()}?post={first_new.pk}#post-{first_new.pk}">2 new replies</a>' in page


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


def test_threads_never_opened_and_hidden_replies_count_as_nothing_new(client, user, category):
    opened, never = make_thread(category=category), make_thread(category=category)
    client.force_login(user)
    client.get(opened.get_absolute_url())
    make_post(thread=never)
    hidden = make_post(thread=opened)
    hidden.is_hidden = True
    hidden.save(update_fields=["is_hidden"])
    assert "new repl" not in client.get("/forum/").content.decode()
