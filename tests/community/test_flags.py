"""Flags weigh by standing: fresh accounts cannot hide posts, and a review resolves old flags."""
from datetime import timedelta

import pytest
from django.utils import timezone

from community import services
from community.models import Category
from tests.conftest import client_for
from tests.factories import EstablishedMemberFactory, StaffFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def fresh_member(**kwargs):
    return UserFactory(date_joined=timezone.now() - timedelta(days=1), **kwargs)


def flag(user, post):
    return client_for(user).post(f"/api/v1/posts/{post.pk}/flag/", {"reason": "spam"}, format="json")


@pytest.fixture
def post(category):
    return make_post(thread=make_thread(category=category), body="an honest opinion")


def test_three_day_old_accounts_cannot_hide_a_post(post):
    for _ in range(3):
        assert flag(fresh_member(), post).status_code == 201
    post.refresh_from_db()
    assert not post.is_hidden


def test_fresh_accounts_flags_still_reach_the_review_queue(client, post, staff):
    flag(fresh_member(), post)
    client.force_login(staff)
    assert "an honest opinion" in client.get("/forum/review/").content.decode()


def test_young_accounts_that_upvoted_one_another_cannot_hide_a_post(post, settings):
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(fresh_member(reputation=settings.FORUM_FLAG_MIN_REPUTATION), post)
    post.refresh_from_db()
    assert not post.is_hidden and post.needs_review


def test_old_accounts_without_reputation_cannot_hide_a_post(post, settings):
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(UserFactory(), post)
    post.refresh_from_db()
    assert not post.is_hidden


def test_old_accounts_with_reputation_hide_a_post_until_review(post, settings):
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(EstablishedMemberFactory(), post)
    post.refresh_from_db()
    assert post.is_hidden and post.needs_review


def test_the_minimum_account_age_is_a_setting(post, settings):
    settings.FORUM_FLAG_MIN_ACCOUNT_AGE_DAYS = 1
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(fresh_member(reputation=settings.FORUM_FLAG_MIN_REPUTATION), post)
    post.refresh_from_db()
    assert post.is_hidden


def test_members_flags_do_not_hide_a_moderators_post(category, staff, settings):
    post = make_post(thread=make_thread(category=category), author=staff, body="the rules")
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(EstablishedMemberFactory(), post)
    post.refresh_from_db()
    assert not post.is_hidden and post.needs_review


def test_a_moderators_flag_hides_at_once(post):
    flag(StaffFactory(), post)
    post.refresh_from_db()
    assert post.is_hidden and post.needs_review


def test_a_restored_post_is_not_rehidden_by_one_new_flag(post, staff, settings):
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(EstablishedMemberFactory(), post)
    services.review_post(moderator=staff, post=post, keep_hidden=False)
    flag(EstablishedMemberFactory(), post)
    post.refresh_from_db()
    assert not post.is_hidden and post.needs_review


def test_enough_new_flags_after_a_review_hide_again(post, staff, settings):
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(EstablishedMemberFactory(), post)
    services.review_post(moderator=staff, post=post, keep_hidden=False)
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(EstablishedMemberFactory(), post)
    post.refresh_from_db()
    assert post.is_hidden


def test_the_hide_button_is_a_review_too(client, post, staff, settings):
    for _ in range(settings.FORUM_FLAGS_TO_HIDE):
        flag(EstablishedMemberFactory(), post)
    client.force_login(staff)
    client.post(f"/forum/p/{post.pk}/hide/", {"hide": "0"})
    flag(EstablishedMemberFactory(), post)
    post.refresh_from_db()
    assert not post.is_hidden


def reply_count(post):
    post.thread.refresh_from_db()
    return post.thread.reply_count


def test_a_hidden_reply_comes_off_its_threads_count_and_back_when_shown(post, staff):
    assert reply_count(post) == 1
    flag(staff, post)
    assert reply_count(post) == 0
    flag(staff, post)  # flagged again while hidden: no second count off
    assert reply_count(post) == 0
    services.review_post(moderator=staff, post=post, keep_hidden=False)
    assert reply_count(post) == 1


def test_a_question_whose_only_answer_is_hidden_is_unanswered_again(client, category, staff):
    question = make_thread(category=category, kind="question", title="Still open?")
    flag(staff, make_post(thread=question, body="buy cheap watches"))
    assert "Still open?" in client.get("/forum/?tab=unanswered").content.decode()


def test_deleting_a_hidden_reply_does_not_count_it_off_twice(post, staff):
    flag(staff, post)
    services.delete_post(user=staff, post=post)
    assert reply_count(post) == 0


def test_unhiding_a_thread_hidden_with_its_opening_post_shows_both(client, category, staff):
    thread = make_thread(category=category, title="Back again")
    flag(staff, thread.posts.get(position=1))  # hides the opening post, and the thread with it
    services.moderate_thread(moderator=staff, thread=thread, action="unhide")
    assert client.get(thread.get_absolute_url()).status_code == 200
    assert "Back again" in client.get("/forum/").content.decode()


def test_a_flag_that_hides_a_thread_returns_its_flagger_to_the_category(client, category, settings):
    settings.FORUM_FLAGS_TO_HIDE = 1
    thread = make_thread(category=category)
    client.force_login(EstablishedMemberFactory())
    response = client.post(f"/forum/p/{thread.posts.get(position=1).pk}/flag/", {"reason": "spam"})
    assert response["Location"] == category.get_absolute_url()


def category_count(category) -> int:
    category.refresh_from_db()
    return category.thread_count


def test_a_category_counts_the_threads_everyone_sees(category, staff):
    thread = make_thread(category=category)
    make_thread(category=category)
    assert category_count(category) == 2
    services.moderate_thread(moderator=staff, thread=thread, action="hide")
    services.moderate_thread(moderator=staff, thread=thread, action="hide")  # twice: counted off once
    assert category_count(category) == 1
    services.moderate_thread(moderator=staff, thread=thread, action="unhide")
    assert category_count(category) == 2


def test_a_thread_hidden_with_its_opening_post_leaves_the_count_and_comes_back_once(category, staff):
    thread = make_thread(category=category)
    flag(staff, thread.posts.get(position=1))
    assert category_count(category) == 0
    services.moderate_thread(moderator=staff, thread=thread, action="unhide")  # shows the opening post too
    assert category_count(category) == 1


def test_deleting_or_moving_a_hidden_thread_leaves_the_counts_right(category, staff):
    elsewhere = Category.objects.create(slug="elsewhere", name="Elsewhere")
    moved, deleted = make_thread(category=category), make_thread(category=category)
    for thread in (moved, deleted):
        services.moderate_thread(moderator=staff, thread=thread, action="hide")
    services.moderate_thread(moderator=staff, thread=moved, action="move", category=elsewhere)
    services.delete_thread(user=staff, thread=deleted)
    assert (category_count(category), category_count(elsewhere)) == (0, 0)
    services.moderate_thread(moderator=staff, thread=moved, action="unhide")
    assert category_count(elsewhere) == 1


def test_a_hidden_accepted_answer_is_unaccepted_and_its_reputation_taken_back(client, category, staff):
    question = make_thread(category=category, kind="question", title="How?")
    answer = make_post(thread=question, body="like this")
    services.accept_answer(user=question.author, thread=question, post=answer)
    answer.author.refresh_from_db()
    earned = answer.author.reputation
    flag(staff, answer)
    question.refresh_from_db()
    answer.author.refresh_from_db()
    assert question.accepted_post is None and answer.author.reputation == earned - 15
    assert "How?" not in client.get("/forum/?tab=solved").content.decode()


def test_an_author_hears_that_members_flags_hid_their_post(post, settings):
    settings.FORUM_FLAGS_TO_HIDE = 1
    flag(UserFactory(date_joined=timezone.now() - timedelta(days=30), reputation=100), post)
    told = post.author.notifications.get()
    assert (told.kind, told.actor, told.post) == ("flagged_hidden", None, post)


def test_an_author_hears_who_hid_and_who_restored_their_post(client, post, staff):
    services.review_post(moderator=staff, post=post, keep_hidden=True)
    services.review_post(moderator=staff, post=post, keep_hidden=True)  # no change: nothing more to say
    services.review_post(moderator=staff, post=post, keep_hidden=False)
    assert list(post.author.notifications.order_by("pk").values_list("kind", "actor")) == [
        ("post_hidden", staff.pk), ("post_restored", staff.pk)]
    client.force_login(post.author)
    page = client.get("/forum/notifications/").content.decode()
    assert "hid your post" in page and "restored your post" in page


def test_a_moderator_hiding_their_own_post_is_not_told(category, staff):
    own = make_post(thread=make_thread(category=category), author=staff)
    services.review_post(moderator=staff, post=own, keep_hidden=True)
    assert not staff.notifications.exists()


def test_hiding_a_self_accepted_answer_takes_no_reputation_it_never_gave(category, staff):
    question = make_thread(category=category, kind="question")
    own = make_post(thread=question, author=question.author, body="solved it myself")
    services.accept_answer(user=question.author, thread=question, post=own)
    before = type(question.author).objects.get(pk=question.author_id).reputation
    services.review_post(moderator=staff, post=own, keep_hidden=True)
    assert type(question.author).objects.get(pk=question.author_id).reputation == before


def test_an_author_editing_a_hidden_post_sends_it_back_for_review(post, staff):
    services.review_post(moderator=staff, post=post, keep_hidden=True)
    services.edit_post(editor=post.author, post=post, body="an honest opinion, said kindly")
    post.refresh_from_db()
    assert post.is_hidden and post.needs_review


def test_a_moderator_editing_a_hidden_post_leaves_the_queue_alone(post, staff):
    services.review_post(moderator=staff, post=post, keep_hidden=True)
    services.edit_post(editor=staff, post=post, body="[removed]")
    post.refresh_from_db()
    assert post.is_hidden and not post.needs_review


def test_moderators_see_how_many_posts_wait_for_review_on_every_page(client, post, staff):
    flag(EstablishedMemberFactory(), post)
    client.force_login(staff)
    page = client.get("/").content.decode()
    assert 'data-testid="review-count"' in page and "1 post to review" in page and "Moderation (1)" in page
    client.force_login(post.author)
    assert 'data-testid="review-count"' not in client.get("/").content.decode()


def test_a_flag_may_name_one_of_discourses_reasons_without_words(post):
    response = client_for(UserFactory()).post(f"/api/v1/posts/{post.pk}/flag/", {"kind": "spam"}, format="json")
    assert response.status_code == 201 and post.flags.get().kind == "spam"


@pytest.mark.parametrize("data,field", [({"kind": "other"}, "reason"), ({}, "reason"), ({"kind": "rude"}, "kind")])
def test_a_flag_without_its_reason_is_a_400_naming_the_field(post, data, field):
    response = client_for(UserFactory()).post(f"/api/v1/posts/{post.pk}/flag/", data, format="json")
    assert response.status_code == 400 and field in response.json()


def test_the_review_queue_shows_each_flags_kind(client, post, staff):
    client_for(UserFactory()).post(f"/api/v1/posts/{post.pk}/flag/", {"kind": "off_topic"}, format="json")
    client.force_login(staff)
    assert "<strong>Off-topic</strong>" in client.get("/forum/review/").content.decode()


def test_the_flag_form_offers_the_reasons(client, post):
    client.force_login(UserFactory())
    page = client.get(post.thread.get_absolute_url()).content.decode()
    assert 'name="kind" value="spam"' in page and 'name="kind" value="other" checked' in page
