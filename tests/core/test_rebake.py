"""`manage.py rebake` renders stored text again: HTML saved under an older renderer or allow-list
is replaced, and nothing else moves."""
from io import StringIO

from django.core.management import call_command

from community.models import Notification, Post
from models_hub.models import Resource
from tests.factories import ResourceFactory, make_post, make_thread

STALE = '<p onclick="steal()">saved under an older sanitiser</p>'


def rebake() -> str:
    out = StringIO()
    call_command("rebake", stdout=out)
    return out.getvalue()


def test_a_post_saved_under_an_older_sanitiser_is_rendered_anew(user, category):
    reply = make_post(thread=make_thread(category=category), body="**bold** and @nobody-here")
    fresh = Post.objects.get(pk=reply.pk).body_html
    Post.objects.filter(pk=reply.pk).update(body_html=STALE)
    assert "1 posts and revisions rendered anew" in rebake()
    assert Post.objects.get(pk=reply.pk).body_html == fresh and "onclick" not in fresh


def test_rebaking_notifies_nobody_again(user, other_user, category):
    make_post(thread=make_thread(category=category), body=f"thanks @{other_user.username}")
    Post.objects.update(body_html=STALE)
    before = Notification.objects.count()
    rebake()
    assert Notification.objects.count() == before


def test_a_card_saved_under_an_older_sanitiser_is_rendered_anew(db):
    resource = ResourceFactory(card="# Title\n\nSee [the docs](docs/usage.md).")
    Resource.objects.filter(pk=resource.pk).update(card_html=STALE)
    assert "1 cards rendered anew" in rebake()
    html = Resource.objects.get(pk=resource.pk).card_html
    assert "onclick" not in html and f"/hub/model/acme/{resource.name}/files/main/docs/usage.md" in html
