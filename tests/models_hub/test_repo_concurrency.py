"""Writes to a member's resources at once: the storage quota across repositories, an edit and a like."""
import threading

import pytest
from django.db import connection

from models_hub import services
from models_hub.models import Resource
from models_hub.repos.commits import QuotaExceeded, storage_used

from tests.concurrency import started
from tests.factories import UserFactory

from .repo_helpers import commit

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_pushes_to_two_repositories_at_once_cannot_both_pass_the_quota(user, settings):
    if not settings.USING_POSTGRES:
        pytest.skip("SQLite serialises all writes")
    repos = [services.save_resource(user=user, data={"kind": "model", "name": f"m{i}", "title": f"M{i}"})
             for i in range(2)]
    settings.HUB_USER_QUOTA_BYTES = storage_used(user) + 1000  # room for one of the two
    barrier, refused, errors = threading.Barrier(2), [], []

    def push(i):
        try:
            barrier.wait()
            commit(repos[i], user, {"w.bin": bytes([i]) * 600})
        except QuotaExceeded:
            refused.append(i)
        except Exception as exc:  # asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=push, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert errors == [] and len(refused) == 1


def test_a_like_that_comes_while_the_owner_edits_is_kept(user, monkeypatch):
    resource = services.save_resource(user=user, data={"kind": "paper", "name": "p", "title": "P"})
    fan = UserFactory()
    as_loaded = lambda: Resource.objects.get(pk=resource.pk)  # noqa: E731  (each request loads its own)
    loaded, go = threading.Event(), threading.Event()
    check_identity = services._check_identity

    def paused(*args, **kwargs):  # the edit has read the resource
        loaded.set()
        go.wait(10)
        return check_identity(*args, **kwargs)

    monkeypatch.setattr(services, "_check_identity", paused)
    errors = []
    editing = started(lambda: services.save_resource(user=user, data={"title": "Better"}, resource=as_loaded()),
                      errors)
    assert loaded.wait(10)
    liking = started(lambda: services.set_like(user=fan, resource=as_loaded(), liked=True), errors)
    liking.join(2)
    go.set()
    editing.join(10), liking.join(10)
    resource.refresh_from_db()
    assert errors == [] and (resource.title, resource.likes) == ("Better", 1)
