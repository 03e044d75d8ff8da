"""Migrations that change data: they must pass on a database that holds what they fix."""
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from community.models import Category, Thread, User


@contextmanager
def models_before(migration: str):
    """The community app's models as they were before `migration`'s successor ran (the database
    migrated back to it); on leaving, the database is migrated forward again, through what is tested."""
    target = [("community", migration)]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # going back unapplies the apps that build on community
    executor.migrate(target)
    try:
        old = executor.loader.project_state(target).apps
        yield lambda name: old.get_model("community", name)
    finally:
        MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_case_twins_are_renamed_and_reply_counts_recounted():
    with models_before("0006_post_thread_created_at_index") as model:
        OldUser, OldThread, OldPost, OldCategory = (model(name) for name in ("User", "Thread", "Post", "Category"))
        now = timezone.now()
        first = OldUser.objects.create(username="alice", date_joined=now - timezone.timedelta(days=2))
        twin = OldUser.objects.create(username="Alice", date_joined=now)
        category = OldCategory.objects.create(slug="c", name="C")
        thread = OldThread.objects.create(category=category, author=first, title="T", slug="t", reply_count=2)
        OldPost.objects.create(thread=thread, author=first, position=1, body="b", body_html="b")
        OldPost.objects.create(thread=thread, author=twin, position=2, body="r", body_html="r")
        OldPost.objects.create(thread=thread, author=twin, position=3, body="spam", body_html="spam", is_hidden=True)
    assert User.objects.get(pk=first.pk).username == "alice"
    assert User.objects.get(pk=twin.pk).username == f"Alice-{twin.pk}"
    assert Thread.objects.get(pk=thread.pk).reply_count == 1


@pytest.mark.django_db(transaction=True)
def test_threads_learn_their_highest_position_from_their_last_post():
    with models_before("0011_thread_read_state") as model:
        OldUser, OldThread, OldPost, OldCategory = (model(name) for name in ("User", "Thread", "Post", "Category"))
        author = OldUser.objects.create(username="alice")
        category = OldCategory.objects.create(slug="c", name="C")
        replied = OldThread.objects.create(category=category, author=author, title="T", slug="t", reply_count=2)
        for position in (1, 2, 4):  # the third was deleted
            OldPost.objects.create(thread=replied, author=author, position=position, body="b", body_html="b")
        alone = OldThread.objects.create(category=category, author=author, title="U", slug="u")
        OldPost.objects.create(thread=alone, author=author, position=1, body="b", body_html="b")
    assert Thread.objects.get(pk=replied.pk).highest_position == 4
    assert Thread.objects.get(pk=alone.pk).highest_position == 1


@pytest.mark.django_db(transaction=True)
def test_categories_are_recounted_without_their_hidden_threads():
    with models_before("0014_user_pending_email") as model:
        OldUser, OldThread, OldCategory = (model(name) for name in ("User", "Thread", "Category"))
        author = OldUser.objects.create(username="alice")
        counted = OldCategory.objects.create(slug="c", name="C", thread_count=3)
        empty = OldCategory.objects.create(slug="e", name="E", thread_count=2)
        for slug, hidden in (("a", False), ("b", True), ("c", False)):
            OldThread.objects.create(category=counted, author=author, title=slug, slug=slug, is_hidden=hidden)
    assert Category.objects.get(pk=counted.pk).thread_count == 2
    assert Category.objects.get(pk=empty.pk).thread_count == 0


@pytest.mark.django_db(transaction=True)
def test_search_documents_learn_their_author_and_date():
    from core.models import SearchDocument

    with models_before("0021_revision_redaction") as model:
        OldUser, OldThread, OldPost, OldCategory = (model(name) for name in ("User", "Thread", "Post", "Category"))
        author, replier = OldUser.objects.create(username="alice"), OldUser.objects.create(username="bob")
        category = OldCategory.objects.create(slug="c", name="C")
        when = timezone.now() - timezone.timedelta(days=3)
        thread = OldThread.objects.create(category=category, author=author, title="T", slug="t", created_at=when)
        reply = OldPost.objects.create(thread=thread, author=replier, position=2, body="r", body_html="r")
        for kind, pk in (("thread", thread.pk), ("post", reply.pk)):
            SearchDocument.objects.create(kind=kind, object_id=pk, title="T", url="/")  # core's model is current
    docs = {d.kind: d for d in SearchDocument.objects.all()}
    assert (docs["thread"].author_id, docs["thread"].created_at) == (author.pk, when)
    assert (docs["post"].author_id, docs["post"].created_at) == (replier.pk, reply.created_at)
