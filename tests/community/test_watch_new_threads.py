"""Watching a category or a tag for new threads (Discourse's "Watching First Post"): each new
thread there brings one notification, from a page button or an e-mail for who wants them all."""
import pytest

from community import emails, services
from community.models import CategoryWatch, Notification, TagWatch, User
from core.models import Tag
from tests.conftest import client_for
from tests.factories import CategoryFactory, UserFactory, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def watcher():
    return UserFactory(username="watcher")


def new_thread_notes(user) -> list[str]:
    return list(user.notifications.filter(kind=Notification.Kind.NEW_THREAD).values_list("thread__title", flat=True))


def test_a_new_thread_in_a_watched_category_notifies_its_watcher(watcher, category):
    services.set_new_thread_watch(user=watcher, category=category, watching=True)
    make_thread(category=category, title="Here")
    make_thread(category=CategoryFactory(), title="Elsewhere")
    assert new_thread_notes(watcher) == ["Here"]


def test_a_thread_both_in_a_watched_category_and_under_a_watched_tag_notifies_once(watcher, category):
    services.set_new_thread_watch(user=watcher, category=category, watching=True)
    make_thread(category=CategoryFactory(), title="Warm up", tags=["lora"])
    services.set_new_thread_watch(user=watcher, tag=Tag.objects.get(name="lora"), watching=True)
    make_thread(category=category, title="Both", tags=["lora"])
    make_thread(category=CategoryFactory(), title="Tag only", tags=["lora"])
    assert sorted(new_thread_notes(watcher)) == ["Both", "Tag only"]


def test_neither_its_author_nor_who_muted_them_hears_of_it(watcher, category):
    author, muter = UserFactory(), UserFactory()
    for member in (author, muter, watcher):
        services.set_new_thread_watch(user=member, category=category, watching=True)
    services.set_mute(user=muter, member=author, muted=True)
    make_thread(category=category, author=author, title="Mine")
    assert (new_thread_notes(author), new_thread_notes(muter), new_thread_notes(watcher)) == ([], [], ["Mine"])


def test_a_mention_in_the_opening_post_is_told_as_a_mention_only(watcher, category):
    services.set_new_thread_watch(user=watcher, category=category, watching=True)
    make_thread(category=category, body="@watcher look")
    assert list(watcher.notifications.values_list("kind", flat=True)) == ["mention"]


@pytest.mark.parametrize("choice,emailed", [("direct", False), ("all", True)])
def test_new_threads_are_emailed_only_to_who_asked_for_every_notification(watcher, category, mailoutbox, choice,
                                                                         emailed):
    User.objects.filter(pk=watcher.pk).update(email_notifications=choice)
    services.set_new_thread_watch(user=watcher, category=category, watching=True)
    make_thread(category=category)
    notification = watcher.notifications.get(kind=Notification.Kind.NEW_THREAD)
    assert emails.send_notification_email(notification_id=notification.pk) is emailed


def test_the_category_page_button_watches_and_unwatches(client, watcher, category):
    client.force_login(watcher)
    url = f"/forum/c/{category.slug}/watch/"
    assert client.post(url, {"watch": "1"})["Location"] == category.get_absolute_url()
    assert CategoryWatch.objects.filter(user=watcher, category=category).exists()
    assert "✓ Watching new threads" in client.get(category.get_absolute_url()).content.decode()
    assert "Watch new threads" in client.post(url, {"watch": "0"}, HTTP_HX_REQUEST="true").content.decode()
    assert not CategoryWatch.objects.exists()


def test_a_tag_with_a_slash_can_be_watched(client, watcher, category):
    make_thread(category=category, tags=["llama/3"])
    client.force_login(watcher)
    response = client.post("/forum/tag-watch/llama/3", {"watch": "1"}, HTTP_HX_REQUEST="true")
    assert "✓ Watching new threads" in response.content.decode()
    assert TagWatch.objects.get().tag.name == "llama/3"
    assert "✓ Watching new threads" in client.get("/forum/tag/llama/3/").content.decode()


def test_watching_is_for_members_and_unknown_places_are_404s(client, watcher, category):
    assert client.post(f"/forum/c/{category.slug}/watch/", {"watch": "1"}).status_code == 302
    assert not CategoryWatch.objects.exists()
    client.force_login(watcher)
    assert client.post("/forum/c/nope/watch/", {"watch": "1"}).status_code == 404
    assert client.post("/forum/tag-watch/nope", {"watch": "1"}).status_code == 404
    assert client.get(f"/forum/c/{category.slug}/watch/").status_code == 405


def test_the_api_watches_a_category(watcher, category):
    api = client_for(watcher)
    response = api.post(f"/api/v1/categories/{category.pk}/watch/", {"watching": True}, format="json")
    assert response.status_code == 200 and response.json() == {"watching": True}
    assert CategoryWatch.objects.filter(user=watcher, category=category).exists()
    assert api.post(f"/api/v1/categories/{category.pk}/watch/", {"watching": "maybe"},
                    format="json").json().keys() == {"watching"}
    assert client_for(None).post(f"/api/v1/categories/{category.pk}/watch/", {"watching": True},
                                 format="json").status_code in (401, 403)
