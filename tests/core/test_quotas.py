"""core.quotas: active and windowed caps counted in one query; a group of jobs counts once."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from core import quotas
from core.exceptions import RateLimited
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model

pytestmark = pytest.mark.django_db


def _jobs(user, n, *, status="queued", group=None):
    model = runnable_model()
    return [GenerationJob.objects.create(user=user, resource=model, mode="chat", params={}, status=status,
                                         request_group=group) for _ in range(n)]


def _enforce(user, *, max_active=100, max_in_window=100):
    quotas.enforce(user=user, jobs=GenerationJob.objects.filter(user=user), group="request_group",
                   max_active=max_active, active_retry_s=5, window=timedelta(hours=1), max_in_window=max_in_window)


def test_the_jobs_of_one_group_count_once():
    user = UserFactory()
    _jobs(user, 3, group=uuid.uuid4())
    _jobs(user, 1)
    _enforce(user, max_active=3)  # two units
    with pytest.raises(RateLimited):
        _enforce(user, max_active=2)


def test_finished_jobs_do_not_count_as_active_but_do_in_the_window():
    user = UserFactory()
    _jobs(user, 2, status="succeeded")
    _enforce(user, max_active=1)
    with pytest.raises(RateLimited):
        _enforce(user, max_in_window=2)


def test_the_window_retry_is_when_its_oldest_job_leaves_it():
    user = UserFactory()
    oldest, _newer = _jobs(user, 2, status="succeeded")
    GenerationJob.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(minutes=50))
    with pytest.raises(RateLimited) as raised:
        _enforce(user, max_in_window=2)
    assert 500 <= raised.value.retry_after <= 601


def test_a_window_cap_of_zero_refuses_for_a_whole_window():
    with pytest.raises(RateLimited) as raised:
        _enforce(UserFactory(), max_in_window=0)
    assert raised.value.retry_after == 3600


def test_other_members_jobs_do_not_count():
    _jobs(UserFactory(), 3)
    _enforce(UserFactory(), max_active=1)


def test_both_caps_cost_one_query_after_the_lock(django_assert_num_queries):
    user = UserFactory()
    _jobs(user, 5)
    with django_assert_num_queries(2):
        _enforce(user)
