"""Moderators' actions are logged: who did what to what, when and why; only moderators read it."""
import pytest

from community import services
from community.models import ModerationLog
from models_hub import services as hub
from tests.factories import StaffFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(ModerationLog.objects.values_list("action", flat=True))


def test_thread_actions_are_logged_with_their_moderator_and_author(staff, category):
    thread = make_thread(category=category, title="Spam here")
    services.moderate_thread(moderator=staff, thread=thread, action="lock")
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.moderator, entry.member, entry.subject) == ("lock", staff, thread.author, "Spam here")
    assert entry.link == thread.get_absolute_url()


def test_a_move_names_the_category_it_went_to(staff, category):
    from tests.factories import CategoryFactory

    services.moderate_thread(moderator=staff, thread=make_thread(category=category), action="move",
                             category=CategoryFactory(slug="off-topic", name="Off-topic"))
    assert ModerationLog.objects.get().detail == "Off-topic"


def test_hiding_and_restoring_a_post_and_a_revision_are_logged(staff, category):
    post = make_post(thread=make_thread(category=category))
    services.review_post(moderator=staff, post=post, keep_hidden=True)
    services.review_post(moderator=staff, post=post, keep_hidden=False)
    services.edit_post(editor=post.author, post=post, body="changed")
    services.set_revision_hidden(moderator=staff, revision=post.revisions.get(), hidden=True)
    assert actions() == ["revision_hidden", "post_restored", "post_hidden"]


def test_suspensions_and_takedowns_are_logged_with_the_reason(staff):
    member = UserFactory()
    services.suspend_member(moderator=staff, member=member, days=3, reason="spam")
    services.lift_suspension(moderator=staff, member=member)
    resource = hub.save_resource(user=member, data={"kind": "model", "name": "m", "title": "M"})
    hub.take_down(moderator=staff, resource=resource)
    assert actions() == ["take_down", "lift_suspension", "suspend"]
    assert ModerationLog.objects.get(action="suspend").detail == "3 d: spam"


def test_only_moderators_read_the_log(client, user):
    client.force_login(user)
    assert client.get("/forum/moderation/log/").status_code == 403


@pytest.mark.parametrize("n", [3, 30])
def test_the_log_page_reads_a_fixed_number_of_queries(client, staff, category, n, django_assert_max_num_queries):
    for _ in range(n):
        services.moderate_thread(moderator=staff, thread=make_thread(category=category), action="pin")
    client.force_login(StaffFactory())
    with django_assert_max_num_queries(9):
        page = client.get("/forum/moderation/log/").content.decode()
    assert page.count("pinned a thread") == n


def test_voiding_a_members_arena_votes_is_logged(staff):
    from evaluation.arena import services as arena

    member = UserFactory()
    arena.void_votes(moderator=staff, member=member, reason="sock puppet")
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.member, entry.detail) == ("void_votes", member, "0: sock puppet")
