"""Simultaneous writes keep counters and uniqueness right (needs PostgreSQL's row locks)."""
import threading

import pytest
from django.db import connection, transaction

from community import services
from community.models import Post, Thread, Vote
from tests.concurrency import started
from tests.factories import UserFactory, make_thread

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(fn, n):
    barrier = threading.Barrier(n)
    errors = []

    def worker(i):
        try:
            barrier.wait()
            fn(i)
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return errors


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if not settings.USING_POSTGRES:
        pytest.skip("SQLite serialises all writes; concurrency is tested on PostgreSQL")


def test_two_simultaneous_votes_leave_one_row(category):
    author, voter = UserFactory(), UserFactory()
    post = make_thread(author=author, category=category).posts.first()
    errors = run_together(lambda i: services.vote(user=voter, post=post, value=1), 2)
    assert errors == []
    assert Vote.objects.filter(post=post).count() == 1
    post.refresh_from_db(), author.refresh_from_db()
    assert post.score == 1 and author.reputation == 10


def test_concurrent_replies_keep_counts_and_positions(category):
    thread = make_thread(category=category)
    users = [UserFactory() for _ in range(6)]
    errors = run_together(lambda i: services.create_post(author=users[i], thread=thread, body=f"r{i}",
                                                         enforce_limits=False), 6)
    assert errors == []
    thread.refresh_from_db()
    assert thread.reply_count == 6
    assert sorted(Post.objects.filter(thread=thread).values_list("position", flat=True)) == list(range(1, 8))


def test_concurrent_votes_from_many_users_sum_exactly(category):
    post = make_thread(category=category).posts.first()
    voters = [UserFactory() for _ in range(8)]
    assert run_together(lambda i: services.vote(user=voters[i], post=post, value=1), 8) == []
    post.refresh_from_db()
    assert post.score == 8 and Thread.objects.get(pk=post.thread_id).score == 8


def test_a_members_write_lock_does_not_block_replies_that_notify_them(category):
    """The rate limit serialises a member's own writes; a reply that notifies the member (its
    notification row references them) must not wait for it, or two members replying in each
    other's threads at the same moment deadlock."""
    author, replier = UserFactory(), UserFactory()
    thread = make_thread(author=author, category=category)
    locked, release = threading.Event(), threading.Event()

    def hold_authors_lock():
        try:
            with transaction.atomic():
                services._enforce_rate_limit(author, creating_thread=False)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_authors_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # blocked: an error instead of a hang
        services.create_post(author=replier, thread=thread, body="a reply", enforce_limits=False)
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert author.notifications.filter(post__thread=thread).exists()


def test_a_reply_deleted_twice_at_once_is_counted_off_once(category):
    author = UserFactory()
    thread = make_thread(category=category)
    post = services.create_post(author=author, thread=thread, body="oops", enforce_limits=False)
    errors = run_together(lambda i: services.delete_post(user=author, post=post), 2)
    assert errors == []
    thread.refresh_from_db()
    assert thread.reply_count == 0 and not Post.objects.filter(pk=post.pk).exists()


def test_a_thread_deleted_twice_at_once_is_counted_off_once(category):
    author = UserFactory()
    thread = make_thread(author=author, category=category)
    make_thread(category=category)
    category.refresh_from_db()
    before = category.thread_count
    errors = run_together(lambda i: services.delete_thread(user=author, thread=thread), 2)
    assert errors == []
    category.refresh_from_db()
    assert category.thread_count == before - 1 and not Thread.objects.filter(pk=thread.pk).exists()


def test_a_reply_to_a_post_goes_through_while_a_vote_on_it_holds_its_lock(category, monkeypatch):
    author, voter, replier = UserFactory(), UserFactory(), UserFactory()
    thread = make_thread(author=author, category=category)
    post = thread.posts.first()
    locked, go = threading.Event(), threading.Event()
    can_vote = services.can_vote

    def paused(user, voted_on):  # called by vote() with the post locked
        locked.set()
        go.wait(10)
        return can_vote(user, voted_on)

    monkeypatch.setattr(services, "can_vote", paused)
    errors = []
    voting = started(lambda: services.vote(user=voter, post=post, value=1), errors)
    assert locked.wait(10)
    replying = started(lambda: services.create_post(author=replier, thread=thread, body="me too", reply_to=post,
                                                    enforce_limits=False), errors)
    replying.join(5)
    replied_meanwhile = not replying.is_alive()
    go.set()
    voting.join(10), replying.join(10)
    assert replied_meanwhile and errors == []
    post.refresh_from_db()
    assert post.score == 1 and Post.objects.filter(thread=thread, reply_to=post).exists()


def test_a_vote_waits_for_the_same_members_vote_in_flight_to_count_it(category, settings):
    """The daily cap counts the member's votes: a second vote made while the first is still being
    written waits for it, and is refused when the first took the last one of the day."""
    from core.exceptions import RateLimited

    settings.FORUM_VOTES_PER_DAY = 1
    voter = UserFactory()
    first, second = (make_thread(category=category).posts.first() for _ in range(2))
    written, finish, errors = threading.Event(), threading.Event(), []

    def vote_and_hold():
        with transaction.atomic():
            services.vote(user=voter, post=first, value=1)
            written.set()
            finish.wait(10)

    holder = started(vote_and_hold, errors)
    assert written.wait(10)
    racer = started(lambda: services.vote(user=voter, post=second, value=1), errors)
    racer.join(0.5)
    assert racer.is_alive()  # waiting on the first vote's transaction
    finish.set()
    holder.join(10), racer.join(10)
    assert [type(e) for e in errors] == [RateLimited]
    assert Vote.objects.filter(user=voter).count() == 1
