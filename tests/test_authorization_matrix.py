"""Who may do what: every write endpoint (REST API and HTML forms), tried as an anonymous
visitor, the object's owner, another member and a moderator. Each row names exactly the roles
that may act; the test checks that the action took effect for those and for no one else (and
that nobody ever gets a 500).

Nothing here reaches a worker: the tests are not transactional, so the on-commit hooks that
queue an evaluation, a battle's answers or a fine-tune never fire (and `no_queue` fails the
test if one does), and no model is loaded."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from community.models import Bookmark, Category, Flag, Post, Thread
from core.models import ApiToken
from evaluation import services as evaluation_services
from evaluation import tasks as evaluation_tasks
from evaluation.models import Battle, EvaluationRun, Vote
from evaluation.suites import sync_suite
from finetune import services as finetune_services
from finetune import tasks as finetune_tasks
from finetune.models import FineTuneJob
from models_hub import services as hub_services
from models_hub.models import Like, Resource, Runtime
from playground import services as playground_services
from playground import tasks as playground_tasks
from playground.models import GenerationJob
from tests.conftest import client_for
from tests.evaluation.arena.factories import TWIN, make_battle
from tests.evaluation.factories import dataset, finished_run, queued_run, small_files
from tests.factories import (SMOLLM, CategoryFactory, StaffFactory, UserFactory, make_post, make_thread,
                             runnable_model)
from tests.finetune.conftest import make_dataset

ROLES = ("anonymous", "owner", "other", "moderator")
MEMBERS = {"owner", "other", "moderator"}
OWNER_OR_MODERATOR = {"owner", "moderator"}
NOT_OWNER = {"other", "moderator"}


TINY_TRAINING = {"max_steps": 4, "batch_size": 2, "max_seq_len": 64, "lora_r": 4, "lora_alpha": 8}


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
    twin: Resource  # the arena's second runnable model (the job's model is the first)

    # Made on first use, by the rows that need them: the rest stay quick, and the owner's queued
    # fine-tune (the quota is one at a time) exists only where "cancel fine-tune" needs it.
    @cached_property
    def model(self) -> Resource:
        return self.job.resource

    @cached_property
    def suite(self) -> Resource:
        """A dataset declaring the small suite, nothing run on it yet."""
        return dataset(small_files(), name="matrix-suite")

    @cached_property
    def queued_run(self) -> EvaluationRun:
        return queued_run(model=self.model, suite_dataset=dataset(small_files(), name="queued-suite"), user=self.owner)

    @cached_property
    def succeeded_run(self) -> EvaluationRun:
        return finished_run(model=self.model, user=self.owner)

    @cached_property
    def battle(self) -> Battle:
        """The owner's blind battle, both answers in, not yet voted on."""
        return make_battle(self.model, self.twin, user=self.owner)

    @cached_property
    def answering_battle(self) -> Battle:
        """The owner's battle whose answers are still queued."""
        battle = make_battle(self.model, self.twin, user=self.owner)
        GenerationJob.objects.filter(pk__in=[battle.job_a_id, battle.job_b_id]).update(status="queued", output="")
        return battle

    @cached_property
    def voted_battle(self) -> Battle:
        """A battle the owner voted on: the vote a moderator may void."""
        return make_battle(self.model, self.twin, user=self.owner, winner="a")

    @cached_property
    def train_data(self) -> Resource:
        """A dataset whose card declares a training format."""
        return make_dataset("matrix-pairs")

    @cached_property
    def finetune(self) -> FineTuneJob:
        """The owner's queued fine-tune."""
        return finetune_services.submit_finetune(user=self.owner, base_model=self.model.repo_id,
                                                 dataset=self.train_data.repo_id, params=dict(TINY_TRAINING),
                                                 output_name="owner-lora")

    @cached_property
    def draft(self) -> Resource:
        """The owner's unpublished model (as a finished fine-tune leaves it), runnable."""
        draft = hub_services.save_resource(user=self.owner, data={
            "kind": "model", "name": "matrix-draft", "title": "Matrix draft", "is_published": False})
        Runtime.objects.create(resource=draft, **SMOLLM)
        return draft


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    """Whatever a row requests must never reach a queue (a live worker may consume it)."""
    def refuse(*args, **kwargs):
        raise AssertionError("an authorization row queued work")

    for module in (evaluation_services, evaluation_tasks, playground_services, playground_tasks, finetune_services,
                   finetune_tasks):
        monkeypatch.setattr(module, "enqueue", refuse)


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
                 reply=reply, owner_reply=owner_reply, resource=resource, job=job,
                 twin=runnable_model(TWIN))


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


def _both_answers_cancelled(w: World) -> bool:
    battle = w.answering_battle
    return GenerationJob.objects.filter(pk__in=[battle.job_a_id, battle.job_b_id], status="cancelled").count() == 2


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
    # Others have replied: its author may no longer take it down (as on Discourse).
    Row("delete thread", "delete", _api("/api/v1/threads/{w.thread.pk}/"), {"moderator"},
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
    # --- evaluation, API ----------------------------------------------------------------------
    Row("request evaluation", "post", _api("/api/v1/evaluations/"), MEMBERS,
        lambda w: EvaluationRun.objects.filter(suite__dataset=w.suite).exists(),
        lambda w: {"model": w.model.repo_id, "suite": w.suite.repo_id}),
    Row("request evaluation of a draft", "post", _api("/api/v1/evaluations/"), OWNER_OR_MODERATOR,
        lambda w: EvaluationRun.objects.filter(model=w.draft).exists(),
        lambda w: {"model": w.draft.repo_id, "suite": w.suite.repo_id}),
    Row("cancel evaluation", "post", _api("/api/v1/evaluations/{w.queued_run.pk}/cancel/"), OWNER_OR_MODERATOR,
        lambda w: EvaluationRun.objects.get(pk=w.queued_run.pk).status == "cancelled"),
    Row("discuss evaluation", "post", _api("/api/v1/evaluations/{w.succeeded_run.pk}/discuss/"), MEMBERS,
        lambda w: EvaluationRun.objects.get(pk=w.succeeded_run.pk).thread_id is not None,
        lambda w: {"category": "general"}),
    # --- arena, API ---------------------------------------------------------------------------
    Row("start battle", "post", _api("/api/v1/arena/battles/"), MEMBERS,
        lambda w: Battle.objects.filter(prompt="Matrix battle").exists(),
        lambda w: {"prompt": "Matrix battle"}),
    Row("arena vote", "post", _api("/api/v1/arena/battles/{w.battle.pk}/vote/"), {"owner"},
        lambda w: Vote.objects.filter(battle=w.battle).exists(), lambda w: {"winner": "a"}),
    Row("stop battle", "post", _api("/api/v1/arena/battles/{w.answering_battle.pk}/stop/"), {"owner"},
        _both_answers_cancelled),
    Row("void a member's votes", "post", _api("/api/v1/arena/moderation/void/"), {"moderator"},
        lambda w: Vote.objects.get(battle=w.voted_battle).voided_at is not None,
        lambda w: {"user": w.voted_battle.user.username, "reason": "matrix"}),
    # --- fine-tuning, API ---------------------------------------------------------------------
    Row("start fine-tune", "post", _api("/api/v1/finetunes/"), MEMBERS,
        lambda w: FineTuneJob.objects.filter(output_name="matrix-lora").exists(),
        lambda w: {"base_model": w.model.repo_id, "dataset": w.train_data.repo_id, "params": TINY_TRAINING,
                   "output_name": "matrix-lora"}),
    Row("cancel fine-tune", "post", _api("/api/v1/finetunes/{w.finetune.pk}/cancel/"), OWNER_OR_MODERATOR,
        lambda w: FineTuneJob.objects.get(pk=w.finetune.pk).status == "cancelled"),
    Row("publish draft", "post", _api("/api/v1/resources/{w.draft.pk}/publish/"), OWNER_OR_MODERATOR,
        lambda w: Resource.objects.get(pk=w.draft.pk).is_published),
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
    Row("page: delete post", "post", _page("community:delete-post", lambda w: w.owner_reply.pk), OWNER_OR_MODERATOR,
        lambda w: not Post.objects.filter(pk=w.owner_reply.pk).exists(), html=True),
    Row("page: delete thread", "post", _page("community:delete-post", lambda w: w.opening.pk), {"moderator"},
        lambda w: not Thread.objects.filter(pk=w.thread.pk).exists(), html=True),
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
    # --- evaluation, pages --------------------------------------------------------------------
    Row("page: request evaluation", "post", _page("evaluation:new"), MEMBERS,
        lambda w: EvaluationRun.objects.filter(suite__dataset=w.suite).exists(),
        lambda w: {"model": w.model.repo_id, "suite": sync_suite(w.suite).pk}, html=True),
    Row("page: cancel evaluation", "post", _page("evaluation:cancel", lambda w: w.queued_run.pk), OWNER_OR_MODERATOR,
        lambda w: EvaluationRun.objects.get(pk=w.queued_run.pk).status == "cancelled", html=True),
    Row("page: discuss evaluation", "post", _page("evaluation:discuss", lambda w: w.succeeded_run.pk), MEMBERS,
        lambda w: EvaluationRun.objects.get(pk=w.succeeded_run.pk).thread_id is not None,
        lambda w: {"category": w.category.pk, "title": "Our scores"}, html=True),
    # --- arena, pages -------------------------------------------------------------------------
    Row("page: start battle", "post", _page("arena:index"), MEMBERS,
        lambda w: Battle.objects.filter(prompt="Page battle").exists(),
        lambda w: {"prompt": "Page battle", "mode": "blind"}, html=True),
    Row("page: arena vote", "post", _page("arena:vote", lambda w: w.battle.pk), {"owner"},
        lambda w: Vote.objects.filter(battle=w.battle).exists(), lambda w: {"winner": "tie"}, html=True),
    Row("page: stop battle", "post", _page("arena:stop", lambda w: w.answering_battle.pk), {"owner"},
        _both_answers_cancelled, html=True),
    Row("page: void a member's votes", "post", _page("arena:moderation"), {"moderator"},
        lambda w: Vote.objects.get(battle=w.voted_battle).voided_at is not None,
        lambda w: {"username": w.voted_battle.user.username, "reason": "matrix"}, html=True),
    # --- fine-tuning, pages -------------------------------------------------------------------
    Row("page: start fine-tune", "post", _page("finetune:new"), MEMBERS,
        lambda w: FineTuneJob.objects.filter(output_name="page-lora").exists(),
        lambda w: {"base_model": w.model.repo_id, "dataset": w.train_data.repo_id, "output_name": "page-lora",
                   **TINY_TRAINING}, html=True),
    Row("page: cancel fine-tune", "post", _page("finetune:cancel", lambda w: w.finetune.pk), OWNER_OR_MODERATOR,
        lambda w: FineTuneJob.objects.get(pk=w.finetune.pk).status == "cancelled", html=True),
    Row("page: publish draft", "post", _page("models_hub:publish", "model", lambda w: w.draft.owner, "matrix-draft"),
        OWNER_OR_MODERATOR, lambda w: Resource.objects.get(pk=w.draft.pk).is_published, html=True),
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
