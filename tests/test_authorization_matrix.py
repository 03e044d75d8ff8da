"""Who may do what: every write endpoint (REST API and HTML forms), tried as an anonymous
visitor, the object's owner, another member and a moderator. Each row names exactly the roles
that may act; the test checks that the action took effect for those and for no one else (and
that nobody ever gets a 500)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from community.models import Bookmark, Category, Flag, Post, Thread
from core.models import ApiToken
from models_hub import services as hub_services
from models_hub.models import Like, Resource
from playground.models import GenerationJob
from tests.conftest import client_for
from tests.factories import CategoryFactory, StaffFactory, UserFactory, make_post, make_thread, runnable_model

ROLES = ("anonymous", "owner", "other", "moderator")
MEMBERS = {"owner", "other", "moderator"}
OWNER_OR_MODERATOR = {"owner", "moderator"}
NOT_OWNER = {"other", "moderator"}


@dataclass
class World:
    owner: object
    other: object
    moderator: object
    category: Category
    empty_category: Category
    thread: Thread
    opening: Post
    reply: Post  # by the other member, in the owner's question
    owner_reply: Post
    resource: Resource
    job: GenerationJob


@pytest.fixture
def world(db) -> World:
    owner, other, moderator = UserFactory(), UserFactory(), StaffFactory()
    category = CategoryFactory(slug="general")
    thread = make_thread(author=owner, category=category, kind="question", title="Matrix question")
    reply = make_post(thread=thread, author=other, body="An answer")
    owner_reply = make_post(thread=thread, author=owner, body="My own reply")
    # An hour ago, so that the forum's rate limits judge only the action under test.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Thread.objects.update(created_at=an_hour_ago)
    Post.objects.update(created_at=an_hour_ago)
    resource = hub_services.save_resource(user=owner, data={"kind": "dataset", "name": "matrix-data",
                                                            "title": "Matrix data"})
    job = GenerationJob.objects.create(user=owner, resource=runnable_model(), mode="chat", status="succeeded",
                                       messages=[{"role": "user", "content": "Hi"}], output="Hello", params={})
    return World(owner=owner, other=other, moderator=moderator, category=category,
                 empty_category=CategoryFactory(slug="empty"), thread=thread, opening=thread.posts.get(position=1),
                 reply=reply, owner_reply=owner_reply, resource=resource, job=job)


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    url: Callable[[World], str]
    allowed: set[str]
    took_effect: Callable[[World], bool]
    data: Callable[[World], dict] = lambda w: {}
    html: bool = False  # a form post from a signed-in browser session, not an API call


def _api(url: str) -> Callable[[World], str]:
    return lambda w: url.format(w=w)


def _page(name: str, *args) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[a(w) if callable(a) else a for a in args])


def _thread_of(w: World) -> Thread:
    return Thread.objects.get(pk=w.thread.pk)


def _resource_url(suffix: str) -> Callable[[World], str]:
    return lambda w: w.resource.get_absolute_url() + suffix


ROWS = [
    # --- forum, API ---------------------------------------------------------------------------
    Row("create category", "post", _api("/api/v1/categories/"), {"moderator"},
        lambda w: Category.objects.filter(slug="new-cat").exists(),
        lambda w: {"name": "New", "slug": "new-cat", "description": "d"}),
    Row("edit category", "patch", _api("/api/v1/categories/{w.category.pk}/"), {"moderator"},
        lambda w: Category.objects.get(pk=w.category.pk).description == "changed", lambda w: {"description": "changed"}),
    Row("delete category", "delete", _api("/api/v1/categories/{w.empty_category.pk}/"), {"moderator"},
        lambda w: not Category.objects.filter(pk=w.empty_category.pk).exists()),
    Row("start thread", "post", _api("/api/v1/threads/"), MEMBERS,
        lambda w: Thread.objects.filter(title="Matrix thread").exists(),
        lambda w: {"title": "Matrix thread", "body": "Body", "category": "general"}),
    Row("edit thread", "patch", _api("/api/v1/threads/{w.thread.pk}/"), OWNER_OR_MODERATOR,
        lambda w: _thread_of(w).title == "Renamed", lambda w: {"title": "Renamed"}),
    Row("delete thread", "delete", _api("/api/v1/threads/{w.thread.pk}/"), OWNER_OR_MODERATOR,
        lambda w: not Thread.objects.filter(pk=w.thread.pk).exists()),
    Row("reply", "post", _api("/api/v1/threads/{w.thread.pk}/posts/"), MEMBERS,
        lambda w: Post.objects.filter(body="Matrix reply").exists(), lambda w: {"body": "Matrix reply"}),
    Row("accept answer", "post", _api("/api/v1/threads/{w.thread.pk}/accept/"), OWNER_OR_MODERATOR,
        lambda w: _thread_of(w).accepted_post_id == w.reply.pk, lambda w: {"post": w.reply.pk}),
    Row("moderate thread", "post", _api("/api/v1/threads/{w.thread.pk}/moderate/"), {"moderator"},
        lambda w: _thread_of(w).is_pinned, lambda w: {"action": "pin"}),
    Row("edit post", "patch", _api("/api/v1/posts/{w.opening.pk}/"), OWNER_OR_MODERATOR,
        lambda w: Post.objects.get(pk=w.opening.pk).body == "Edited", lambda w: {"body": "Edited"}),
    Row("delete post", "delete", _api("/api/v1/posts/{w.owner_reply.pk}/"), OWNER_OR_MODERATOR,
        lambda w: not Post.objects.filter(pk=w.owner_reply.pk).exists()),
    Row("vote", "post", _api("/api/v1/posts/{w.opening.pk}/vote/"), NOT_OWNER,
        lambda w: Post.objects.get(pk=w.opening.pk).score == 1, lambda w: {"value": 1}),
    Row("flag", "post", _api("/api/v1/posts/{w.opening.pk}/flag/"), NOT_OWNER,
        lambda w: Flag.objects.filter(post=w.opening).exists(), lambda w: {"reason": "spam"}),
    # --- hub, API -----------------------------------------------------------------------------
    Row("publish resource", "post", _api("/api/v1/resources/"), MEMBERS,
        lambda w: Resource.objects.filter(name="matrix-new").exists(),
        lambda w: {"kind": "dataset", "name": "matrix-new", "title": "New"}),
    Row("edit resource", "patch", _api("/api/v1/resources/{w.resource.pk}/"), OWNER_OR_MODERATOR,
        lambda w: Resource.objects.get(pk=w.resource.pk).title == "Changed", lambda w: {"title": "Changed"}),
    Row("delete resource", "delete", _api("/api/v1/resources/{w.resource.pk}/"), OWNER_OR_MODERATOR,
        lambda w: not Resource.objects.filter(pk=w.resource.pk).exists()),
    Row("like", "post", _api("/api/v1/resources/{w.resource.pk}/like/"), MEMBERS,
        lambda w: Like.objects.filter(resource=w.resource).exists()),
    # --- playground, API ----------------------------------------------------------------------
    Row("share run", "post", _api("/api/v1/playground/jobs/{w.job.pk}/share/"), {"owner"},
        lambda w: GenerationJob.objects.get(pk=w.job.pk).is_public, lambda w: {"public": True}),
    # --- forum, pages -------------------------------------------------------------------------
    Row("page: start thread", "post", _page("community:new"), MEMBERS,
        lambda w: Thread.objects.filter(title="Page thread").exists(),
        lambda w: {"title": "Page thread", "body": "Body", "category": w.category.pk, "kind": "discussion"}, html=True),
    Row("page: reply", "post", _page("community:reply", lambda w: w.thread.pk), MEMBERS,
        lambda w: Post.objects.filter(body="Page reply").exists(), lambda w: {"body": "Page reply"}, html=True),
    Row("page: accept", "post", _page("community:accept", lambda w: w.thread.pk), OWNER_OR_MODERATOR,
        lambda w: _thread_of(w).accepted_post_id == w.reply.pk, lambda w: {"post": w.reply.pk}, html=True),
    Row("page: bookmark", "post", _page("community:bookmark", lambda w: w.thread.pk), MEMBERS,
        lambda w: Bookmark.objects.filter(thread=w.thread).exists(), lambda w: {"bookmark": "1"}, html=True),
    Row("page: moderate", "post", _page("community:moderate", lambda w: w.thread.pk), {"moderator"},
        lambda w: _thread_of(w).is_locked, lambda w: {"action": "lock"}, html=True),
    Row("page: edit post", "post", _page("community:edit-post", lambda w: w.owner_reply.pk), OWNER_OR_MODERATOR,
        lambda w: Post.objects.get(pk=w.owner_reply.pk).body == "Edited on the page",
        lambda w: {"body": "Edited on the page"}, html=True),
    Row("page: vote", "post", _page("community:vote", lambda w: w.opening.pk), NOT_OWNER,
        lambda w: Post.objects.get(pk=w.opening.pk).score == 1, lambda w: {"value": "1"}, html=True),
    Row("page: flag", "post", _page("community:flag", lambda w: w.opening.pk), NOT_OWNER,
        lambda w: Flag.objects.filter(post=w.opening).exists(), lambda w: {"reason": "spam"}, html=True),
    Row("page: hide post", "post", _page("community:hide-post", lambda w: w.reply.pk), {"moderator"},
        lambda w: Post.objects.get(pk=w.reply.pk).is_hidden, lambda w: {"hide": "1"}, html=True),
    Row("page: new API token", "post", _page("settings"), MEMBERS,
        lambda w: ApiToken.objects.filter(name="matrix").exists(),
        lambda w: {"action": "create_token", "name": "matrix"}, html=True),
    # --- hub, pages ---------------------------------------------------------------------------
    Row("page: publish resource", "post", _page("models_hub:new"), MEMBERS,
        lambda w: Resource.objects.filter(name="page-new").exists(),
        lambda w: {"kind": "dataset", "name": "page-new", "title": "Page new"}, html=True),
    Row("page: edit resource", "post", _resource_url("edit/"), OWNER_OR_MODERATOR,
        lambda w: Resource.objects.get(pk=w.resource.pk).title == "Edited on the page",
        lambda w: {"kind": "dataset", "name": "matrix-data", "title": "Edited on the page"}, html=True),
    Row("page: delete resource", "post", _resource_url("delete/"), OWNER_OR_MODERATOR,
        lambda w: not Resource.objects.filter(pk=w.resource.pk).exists(), html=True),
    Row("page: like", "post", _resource_url("like/"), MEMBERS,
        lambda w: Like.objects.filter(resource=w.resource).exists(), lambda w: {"like": "1"}, html=True),
    # --- playground, pages --------------------------------------------------------------------
    Row("page: share run", "post", _page("playground:share", lambda w: w.job.pk), {"owner"},
        lambda w: GenerationJob.objects.get(pk=w.job.pk).is_public, lambda w: {"public": "1"}, html=True),
    Row("page: post run to forum", "post", _page("playground:post", lambda w: w.job.pk), {"owner"},
        lambda w: GenerationJob.objects.get(pk=w.job.pk).thread_id is not None,
        lambda w: {"category": w.category.pk, "title": "My run"}, html=True),
]


def _client(world: World, role: str, *, html: bool):
    user = None if role == "anonymous" else getattr(world, role)
    if html:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client
    return client_for(user) if user is not None else APIClient()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_only_the_allowed_roles_can_act(world, row, role):
    client = _client(world, role, html=row.html)
    data = row.data(world)
    call = getattr(client, row.method)
    response = call(row.url(world), data) if row.html else call(row.url(world), data, format="json")
    assert response.status_code < 500, f"{row.name} as {role}: {response.status_code}"
    assert row.took_effect(world) == (role in row.allowed), (
        f"{row.name} as {role}: took effect={row.took_effect(world)}, status {response.status_code}")
