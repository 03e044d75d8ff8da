import pytest

from community import services
from community.models import Notification, Post, User, Vote
from tests.conftest import client_for
from tests.factories import EstablishedMemberFactory, StaffFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def vote(client, post, value):
    return client.post(f"/api/v1/posts/{post.pk}/vote/", {"value": value}, format="json")


def test_upvote_sets_score_and_reputation(as_other, user, category):
    post = make_thread(author=user, category=category).posts.first()
    assert vote(as_other, post, 1).json() == {"score": 1, "my_vote": 1}
    user.refresh_from_db()
    assert user.reputation == 10


def test_changing_a_vote_keeps_reputation_consistent(as_other, user, category):
    post = make_thread(author=user, category=category).posts.first()
    vote(as_other, post, 1)
    assert vote(as_other, post, -1).json() == {"score": -1, "my_vote": -1}
    user.refresh_from_db()
    assert user.reputation == -2
    assert vote(as_other, post, 0).json() == {"score": 0, "my_vote": None}
    user.refresh_from_db()
    assert user.reputation == 0
    assert not Vote.objects.exists()


def test_voting_twice_the_same_way_counts_once(as_other, user, category):
    post = make_thread(author=user, category=category).posts.first()
    vote(as_other, post, 1)
    assert vote(as_other, post, 1).json()["score"] == 1


def test_cannot_vote_on_own_post(as_user, user, category):
    post = make_thread(author=user, category=category).posts.first()
    assert vote(as_user, post, 1).status_code == 403


@pytest.mark.parametrize("value", [2, "up", None])
def test_bad_vote_value_is_400(as_other, user, category, value):
    post = make_thread(author=user, category=category).posts.first()
    response = vote(as_other, post, value)
    assert response.status_code == 400 and "value" in response.json()


def test_vote_uniqueness_is_a_database_constraint(user, other_user, category):
    from django.db import IntegrityError, transaction

    post = make_thread(author=user, category=category).posts.first()
    Vote.objects.create(user=other_user, post=post, value=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(user=other_user, post=post, value=-1)


def test_accepting_an_answer(user, category):
    asker, answerer = user, UserFactory()
    thread = make_thread(author=asker, category=category, kind="question")
    answer = make_post(thread=thread, author=answerer)
    response = client_for(asker).post(f"/api/v1/threads/{thread.pk}/accept/", {"post": answer.pk}, format="json")
    assert response.json()["accepted_post"] == answer.pk
    answerer.refresh_from_db()
    assert answerer.reputation == 15
    assert Notification.objects.filter(recipient=answerer, kind="accepted").exists()
    response = client_for(asker).post(f"/api/v1/threads/{thread.pk}/accept/", {"post": None}, format="json")
    assert response.json()["accepted_post"] is None
    answerer.refresh_from_db()
    assert answerer.reputation == 0


def reputation(member) -> int:
    return User.objects.values_list("reputation", flat=True).get(pk=member.pk)


def test_deleting_a_reply_takes_back_what_its_votes_and_acceptance_earned(user, category):
    asker, answerer, keeper = user, UserFactory(), UserFactory()
    thread = make_thread(author=asker, category=category, kind="question")
    answer, kept = make_post(thread=thread, author=answerer), make_post(thread=thread, author=keeper)
    for voter, value in ((UserFactory(), 1), (UserFactory(), 1), (UserFactory(), -1)):
        services.vote(user=voter, post=answer, value=value)
    services.vote(user=asker, post=kept, value=1)
    services.accept_answer(user=asker, thread=thread, post=answer)
    assert reputation(answerer) == 10 + 10 - 2 + 15
    services.delete_post(user=answerer, post=answer)
    assert (reputation(answerer), reputation(keeper)) == (0, 10)  # the other answer's vote stands


def test_deleting_a_thread_takes_back_what_all_its_posts_earned(user, category):
    asker, answerer = user, UserFactory()
    thread = make_thread(author=asker, category=category, kind="question")
    answer = make_post(thread=thread, author=answerer)
    services.vote(user=answerer, post=thread.posts.get(position=1), value=1)
    services.vote(user=UserFactory(), post=answer, value=1)
    services.accept_answer(user=asker, thread=thread, post=answer)
    services.delete_thread(user=StaffFactory(), thread=thread)
    assert (reputation(asker), reputation(answerer)) == (0, 0)


def test_only_questions_take_accepted_answers(user, category):
    thread = make_thread(author=user, category=category, kind="discussion")
    answer = make_post(thread=thread)
    response = client_for(user).post(f"/api/v1/threads/{thread.pk}/accept/", {"post": answer.pk}, format="json")
    assert response.status_code == 400 and "post" in response.json()


def test_accepted_answer_is_shown_right_after_the_question(client, user, category):
    thread = make_thread(author=user, category=category, kind="question")
    make_post(thread=thread, body="first reply")
    best = make_post(thread=thread, body="the best answer")
    services.accept_answer(user=user, thread=thread, post=best)
    page = client.get(thread.get_absolute_url()).content.decode()
    assert page.index("the best answer") < page.index("first reply")


def test_solved_and_unanswered_tabs(client, user, category):
    solved = make_thread(author=user, category=category, kind="question", title="Solved one")
    services.accept_answer(user=user, thread=solved, post=make_post(thread=solved))
    make_thread(author=user, category=category, kind="question", title="Nobody answered")
    assert "Nobody answered" in client.get("/forum/?tab=unanswered").content.decode()
    assert "Solved one" not in client.get("/forum/?tab=unanswered").content.decode()
    assert "Solved one" in client.get("/forum/?tab=solved").content.decode()


# --- notifications -----------------------------------------------------------------------------
def test_reply_notifies_the_thread_author(user, category):
    thread = make_thread(author=user, category=category)
    make_post(thread=thread)
    assert list(user.notifications.values_list("kind", flat=True)) == ["reply"]


def test_mention_notifies_once_however_often_repeated_and_never_yourself(user, category):
    alice = UserFactory(username="alice")
    thread = make_thread(author=user, category=category, body="x")
    make_post(thread=thread, author=user, body="@alice @alice and @alice, also me @" + user.username)
    assert alice.notifications.filter(kind="mention").count() == 1
    assert not user.notifications.exists()


def test_a_mention_finds_its_member_however_it_is_capitalised(user, category):
    alice = UserFactory(username="Alice")
    make_post(thread=make_thread(category=category), author=user, body="thanks @alice.")
    assert alice.notifications.filter(kind="mention").count() == 1


def test_watchers_hear_about_new_replies_and_can_unwatch(user, category):
    thread = make_thread(category=category)
    watcher = UserFactory()
    make_post(thread=thread, author=watcher)  # replying watches the thread
    make_post(thread=thread)
    assert watcher.notifications.filter(kind="watching").count() == 1
    services.set_watch(user=watcher, thread=thread, watching=False)
    make_post(thread=thread)
    assert watcher.notifications.filter(kind="watching").count() == 1


def test_an_author_who_stops_watching_their_thread_hears_of_no_more_replies(user, category):
    thread = make_thread(author=user, category=category)
    services.set_watch(user=user, thread=thread, watching=False)
    make_post(thread=thread)
    assert not user.notifications.exists()


def test_a_direct_reply_reaches_its_addressee_even_when_not_watching(user, category):
    thread = make_thread(author=user, category=category)
    services.set_watch(user=user, thread=thread, watching=False)
    make_post(thread=thread, reply_to=thread.posts.get(position=1))
    assert list(user.notifications.values_list("kind", flat=True)) == ["reply"]


def test_a_mention_a_moderator_adds_by_editing_names_the_moderator(user, category):
    moderator = StaffFactory()
    post = make_post(thread=make_thread(category=category), body="a reply")
    services.edit_post(editor=moderator, post=post, body=f"a reply, cc @{user.username}")
    assert user.notifications.get(kind="mention").actor == moderator


def test_notifications_api_and_mark_read(user, category):
    thread = make_thread(author=user, category=category)
    make_post(thread=thread)
    client = client_for(user)
    items = client.get("/api/v1/notifications/").json()["results"]
    assert items[0]["kind"] == "reply" and items[0]["read"] is False and items[0]["url"].startswith("/forum/t/")
    client.post("/api/v1/notifications/read/", {}, format="json")
    assert client.get("/api/v1/notifications/").json()["results"][0]["read"] is True


def test_unread_count_shows_in_the_navigation(client, user, category):
    thread = make_thread(author=user, category=category)
    make_post(thread=thread)
    client.force_login(user)
    assert 'data-testid="unread">1<' in client.get("/forum/").content.decode()


# --- flags and moderation ------------------------------------------------------------------------
def test_three_flags_hide_a_post_until_staff_review(user, staff, category):
    thread = make_thread(category=category)
    post = make_post(thread=thread, author=user, body="spam spam")
    for _ in range(3):
        response = client_for(EstablishedMemberFactory()).post(f"/api/v1/posts/{post.pk}/flag/", {"reason": "spam"}, format="json")
        assert response.status_code == 201
    post.refresh_from_db()
    assert post.is_hidden and post.needs_review
    assert client_for(None).get(f"/api/v1/threads/{thread.pk}/posts/").json()["count"] == 1
    assert client_for(user).get(f"/api/v1/threads/{thread.pk}/posts/").json()["count"] == 2  # its author
    services.review_post(moderator=staff, post=post, keep_hidden=False)
    post.refresh_from_db()
    assert not post.is_hidden and not post.needs_review


def test_flag_without_reason_is_400(as_other, user, category):
    post = make_thread(author=user, category=category).posts.first()
    response = as_other.post(f"/api/v1/posts/{post.pk}/flag/", {"reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.json()


def test_review_queue_is_for_staff_only(client, user, staff):
    client.force_login(user)
    assert client.get("/forum/review/").status_code == 403
    client.force_login(staff)
    assert client.get("/forum/review/").status_code == 200


# --- rate limits ---------------------------------------------------------------------------------
def test_posting_too_fast_is_429_with_retry_after(as_user, category):
    thread = make_thread(category=category)
    assert as_user.post(f"/api/v1/threads/{thread.pk}/posts/", {"body": "one"}, format="json").status_code == 201
    response = as_user.post(f"/api/v1/threads/{thread.pk}/posts/", {"body": "two"}, format="json")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 5


def test_new_accounts_wait_longer_and_have_a_daily_cap(category, settings):
    newbie = User.objects.create_user("newbie", password="x")
    client = client_for(newbie)
    payload = {"title": "t", "body": "b", "category": category.slug}
    assert client.post("/api/v1/threads/", payload, format="json").status_code == 201
    response = client.post("/api/v1/threads/", payload, format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) > 100
    settings.FORUM_RATE_LIMITS = {**settings.FORUM_RATE_LIMITS, "new_user_thread_interval_s": 0}
    client.post("/api/v1/threads/", payload, format="json")
    client.post("/api/v1/threads/", payload, format="json")
    assert client.post("/api/v1/threads/", payload, format="json").status_code == 429  # 3 a day


def test_staff_are_exempt_from_rate_limits(as_staff, category):
    thread = make_thread(category=category)
    for body in ("one", "two", "three"):
        assert as_staff.post(f"/api/v1/threads/{thread.pk}/posts/", {"body": body}, format="json").status_code == 201


def test_web_reply_too_fast_keeps_the_text_and_says_why(client, user, category):
    thread = make_thread(category=category)
    client.force_login(user)
    client.post(f"/forum/t/{thread.pk}/reply/", {"body": "first"})
    response = client.post(f"/forum/t/{thread.pk}/reply/", {"body": "my careful second reply"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "my careful second reply" in page and "too fast" in page
    assert Post.objects.filter(thread=thread).count() == 2


def test_a_moderators_typo_fix_does_not_mention_everyone_again(user, category):
    post = make_post(thread=make_thread(category=category), body=f"thanks @{user.username} for teh tip")
    services.edit_post(editor=StaffFactory(), post=post, body=f"thanks @{user.username} for the tip")
    assert user.notifications.filter(kind="mention").count() == 1


def test_a_question_turned_discussion_drops_its_accepted_answer_and_what_it_earned(user, category):
    answerer = UserFactory()
    thread = make_thread(author=user, category=category, kind="question")
    services.accept_answer(user=user, thread=thread, post=make_post(thread=thread, author=answerer))
    assert reputation(answerer) == 15
    thread = services.update_thread(editor=user, thread=thread, kind="discussion")
    assert thread.accepted_post_id is None and reputation(answerer) == 0
