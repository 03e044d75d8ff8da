"""A member's Usage page: runs and tokens of the last 30 days by day and by model, and where they
stand against the hourly quota."""
from datetime import timedelta

import pytest
from django.utils import timezone

from playground.models import GenerationJob
from tests.factories import StaffFactory, UserFactory, runnable_model

pytestmark = pytest.mark.django_db


def ran(user, *, days_ago: int = 0, prompt: int = 10, completion: int = 5, resource=None, status="succeeded"):
    job = GenerationJob.objects.create(user=user, resource=resource or runnable_model(), mode="completion",
                                       prompt="Hi", params={}, status=status, prompt_tokens=prompt,
                                       completion_tokens=completion)
    GenerationJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return job


def test_usage_adds_up_the_members_own_runs_by_day_and_by_model(client, user):
    ran(user)
    ran(user, prompt=1000, completion=200)
    ran(user, days_ago=3)
    ran(user, days_ago=40)  # before the window
    ran(UserFactory())  # someone else's
    client.force_login(user)
    response = client.get("/playground/usage/")
    assert response.context["total"] == {"jobs": 3, "prompt_tokens": 1020, "completion_tokens": 210}
    assert [row["jobs"] for row in response.context["by_day"]] == [2, 1]
    [model] = response.context["by_model"]
    assert (model["resource__owner"], model["jobs"]) == ("HuggingFaceTB", 3)
    assert "1,020" in response.content.decode()


def test_usage_shows_where_the_member_stands_against_the_quota(client, user, settings):
    settings.PLAYGROUND_JOBS_PER_HOUR = 60
    ran(user, status="running")
    ran(user, days_ago=2)
    client.force_login(user)
    quota = client.get("/playground/usage/").context["quota"]
    assert (quota.active, quota.max_active, quota.recent, quota.max_in_window) == (
        1, settings.PLAYGROUND_MAX_ACTIVE_JOBS, 1, 60)


def test_staff_are_told_they_have_no_limits(client):
    client.force_login(StaffFactory())
    assert "Staff have no limits." in client.get("/playground/usage/").content.decode()


def test_usage_is_for_members(client):
    assert client.get("/playground/usage/").status_code == 302


@pytest.mark.parametrize("count", [2, 20])
def test_the_usage_page_costs_the_same_queries_whatever_its_length(client, user, count, django_assert_max_num_queries):
    for i in range(count):
        ran(user, days_ago=i % 10)
    client.force_login(user)
    with django_assert_max_num_queries(8):
        assert client.get("/playground/usage/").status_code == 200
