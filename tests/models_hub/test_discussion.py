"""A resource's discussion belongs to its submitter (or the system account), not to whoever
opened it first: the author of a thread may delete it with every reply."""
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError

from community.models import Post, Thread, Watch
from community import services as community_services
from models_hub import services
from tests.conftest import client_for
from tests.factories import ResourceFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def open_discussion(client, resource):
    return client.post(f"{resource.get_absolute_url()}discussion/")


def test_a_member_who_opens_the_discussion_cannot_delete_it_or_the_replies(client, user):
    resource = services.save_resource(user=UserFactory(), data={"kind": "model", "name": "m", "title": "M"})
    client.force_login(user)
    open_discussion(client, resource)
    thread = Thread.objects.get()
    reply = make_post(thread=thread)
    opener = client_for(user)
    assert opener.delete(f"/api/v1/posts/{reply.pk}/").status_code == 403
    assert opener.delete(f"/api/v1/posts/{thread.posts.get(position=1).pk}/").status_code == 403
    assert opener.delete(f"/api/v1/threads/{thread.pk}/").status_code == 403
    assert Post.objects.count() == 2


def test_the_discussion_belongs_to_the_submitter_and_the_opener_watches_it(client, user):
    submitter = UserFactory()
    resource = services.save_resource(user=submitter, data={"kind": "model", "name": "m", "title": "M"})
    client.force_login(user)
    open_discussion(client, resource)
    thread = Thread.objects.get()
    assert thread.author == submitter and thread.posts.get(position=1).author == submitter
    assert Watch.objects.filter(thread=thread, user=user).exists()


def test_without_a_submitter_the_system_account_owns_it_and_cannot_log_in(client, user):
    resource = ResourceFactory()  # seeded: no submitter
    client.force_login(user)
    open_discussion(client, resource)
    author = Thread.objects.get().author
    assert author.username == "community-bot"
    assert not author.is_active and not author.has_usable_password()


def test_a_member_squatting_the_system_name_is_not_handed_the_thread(user):
    UserFactory(username="community-bot")
    with pytest.raises(ImproperlyConfigured):
        services.ensure_discussion(resource=ResourceFactory(), user=user)
    assert not Thread.objects.exists()


def test_the_migration_hands_opened_discussions_back_to_the_submitter():
    submitter, opener = UserFactory(), UserFactory()
    resource = services.save_resource(user=submitter, data={"kind": "model", "name": "m", "title": "M"})
    resource.thread = make_thread(author=opener)  # as the old ensure_discussion did
    resource.save(update_fields=["thread"])
    migration = importlib.import_module("models_hub.migrations.0004_discussions_owned_by_submitter")
    migration.hand_discussions_to_submitters(apps, None)
    thread = Thread.objects.get()
    assert thread.author == submitter and thread.posts.get(position=1).author == submitter


def test_the_opening_post_is_written_in_both_languages(client, user):
    resource = ResourceFactory(kind="dataset", name="corpus", submitter=user)
    client.force_login(user)
    open_discussion(client, resource)
    resource.refresh_from_db()
    body = Post.objects.get(thread=resource.thread).body
    link = f"[acme/corpus]({resource.get_absolute_url()})"
    assert body == f"Discussion of the dataset {link}.\n\n关于数据集 {link} 的讨论。"


def test_a_draft_has_no_public_discussion_until_it_is_published(client, user):
    draft = ResourceFactory(owner=user.username, name="d", submitter=user, is_published=False)
    client.force_login(user)
    assert "A draft has no discussion until it is published" in client.get(draft.get_absolute_url()).content.decode()
    assert client.post(f"{draft.get_absolute_url()}discussion/").status_code == 403
    draft.refresh_from_db()
    assert draft.thread_id is None and not Thread.objects.exists()


def taken_down_with_discussion(staff):
    resource = services.save_resource(user=UserFactory(), data={"kind": "model", "name": "m", "title": "Abusive title"})
    thread = services.ensure_discussion(resource=resource, user=UserFactory())
    services.take_down(moderator=staff, resource=resource)
    thread.refresh_from_db()
    return resource, thread


def test_a_taken_down_resources_discussion_leaves_the_forum(client, staff):
    resource, thread = taken_down_with_discussion(staff)
    assert thread.is_hidden
    assert "Abusive title" not in client.get("/forum/").content.decode()
    assert client.get(thread.get_absolute_url()).status_code == 404


def test_publishing_it_again_brings_its_discussion_back(client, staff):
    resource, thread = taken_down_with_discussion(staff)
    services.publish_resource(user=staff, resource=resource)
    assert client.get(thread.get_absolute_url()).status_code == 200


def test_a_discussion_whose_opening_post_was_hidden_stays_hidden_when_published_again(staff):
    resource, thread = taken_down_with_discussion(staff)
    community_services.review_post(moderator=staff, post=thread.posts.get(position=1), keep_hidden=True)
    services.publish_resource(user=staff, resource=resource)
    thread.refresh_from_db()
    assert thread.is_hidden


def test_a_discussion_a_moderator_hid_before_the_takedown_stays_hidden_when_published_again(staff):
    resource = services.save_resource(user=UserFactory(), data={"kind": "model", "name": "m", "title": "M"})
    thread = services.ensure_discussion(resource=resource, user=UserFactory())
    community_services.moderate_thread(moderator=staff, thread=thread, action="hide")
    services.take_down(moderator=staff, resource=resource)
    services.publish_resource(user=staff, resource=resource)
    thread.refresh_from_db()
    assert thread.is_hidden


def test_restoring_the_opening_post_does_not_show_a_taken_down_resources_discussion(staff):
    resource, thread = taken_down_with_discussion(staff)
    opening = thread.posts.get(position=1)
    community_services.review_post(moderator=staff, post=opening, keep_hidden=True)
    community_services.review_post(moderator=staff, post=opening, keep_hidden=False)
    thread.refresh_from_db()
    assert thread.is_hidden


def test_a_moderator_is_told_why_the_discussion_cannot_be_unhidden(staff):
    resource, thread = taken_down_with_discussion(staff)
    with pytest.raises(ValidationError) as raised:
        community_services.moderate_thread(moderator=staff, thread=thread, action="unhide")
    assert "publish the resource again" in raised.value.message_dict["action"][0]
