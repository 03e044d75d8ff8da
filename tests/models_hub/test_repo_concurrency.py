"""The storage quota holds across a member's repositories when they push to two at once."""
import threading

import pytest
from django.db import connection

from models_hub import services
from models_hub.repos.commits import QuotaExceeded, storage_used

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
