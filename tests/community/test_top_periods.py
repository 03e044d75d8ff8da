"""The Top tab by period, as on Discourse: the best-scored threads started today, this week, …"""
from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Thread
from tests.factories import make_thread

pytestmark = pytest.mark.django_db


def started(category, title: str, days_ago: int, score: int) -> Thread:
    thread = make_thread(category=category, title=title)
    Thread.objects.filter(pk=thread.pk).update(created_at=timezone.now() - timedelta(days=days_ago), score=score)
    return thread


@pytest.fixture
def threads(category):
    started(category, "Old classic", 40, 50)
    started(category, "Last weeks hit", 10, 20)
    started(category, "Todays question", 0, 5)


def titles(client, query: str) -> list[str]:
    page = client.get(f"/forum/?tab=top&{query}").context["page"]
    return [thread.title for thread in page.object_list]


@pytest.mark.parametrize("period,expected", [
    ("all", ["Old classic", "Last weeks hit", "Todays question"]),
    ("monthly", ["Last weeks hit", "Todays question"]),
    ("weekly", ["Todays question"]),
    ("daily", ["Todays question"]),
])
def test_a_period_lists_the_threads_started_within_it_best_first(client, threads, period, expected):
    assert titles(client, f"period={period}") == expected


def test_an_unknown_period_is_all_time(client, threads):
    assert titles(client, "period=fortnightly") == titles(client, "period=all")


def test_the_periods_show_on_the_top_tab_only(client, threads):
    assert 'aria-current="page">Week</a>' in client.get("/forum/?tab=top&period=weekly").content.decode()
    assert "period=weekly" not in client.get("/forum/?tab=latest").content.decode()


def test_an_empty_period_points_to_all_time(client, category):
    started(category, "Ancient", 400, 1)
    page = client.get("/forum/?tab=top&period=yearly").content.decode()
    assert "No threads started in this period." in page and "Ancient" not in page


@pytest.mark.parametrize("count", [3, 30])
def test_a_periods_list_costs_the_same_queries_whatever_its_length(client, category, count,
                                                                  django_assert_max_num_queries):
    for i in range(count):
        started(category, f"Thread {i}", i % 5, i)
    with django_assert_max_num_queries(8):
        assert client.get("/forum/?tab=top&period=weekly").status_code == 200
