"""The reaper: nothing stays queued or running for ever, whatever the broker or a worker did."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core import eventlog as core_eventlog
from core.models import LogEvent
from playground import eventlog, reaper
from playground.models import GenerationJob
from tests.factories import runnable_model

pytestmark = pytest.mark.django_db(transaction=True)  # work is sent on commit


@pytest.fixture
def sent(monkeypatch):
    jobs = []
    monkeypatch.setattr(reaper, "enqueue_again", lambda job: jobs.append(job.pk))
    return jobs


def queued(user, *, waiting_s: float, age_s: float | None = None, sent_once: bool = False) -> GenerationJob:
    """A job whose message has waited `waiting_s`: since its creation when `sent_once` (a submit
    notes no dispatch time), else since it was sent again."""
    now = timezone.now()
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion", prompt="x",
                                       params={}, dispatched_at=None if sent_once else now - timedelta(seconds=waiting_s))
    GenerationJob.objects.filter(pk=job.pk).update(created_at=now - timedelta(seconds=age_s or waiting_s))
    return job


def test_a_job_whose_message_was_lost_is_sent_again(user, sent, settings):
    job = queued(user, waiting_s=settings.PLAYGROUND_QUEUED_STALE_AFTER_S + 5)
    assert reaper.redispatch_lost_jobs() == 1
    assert sent == [job.pk]
    assert GenerationJob.objects.get(pk=job.pk).status == "queued"


def test_a_job_waiting_less_than_the_limit_is_left_alone(user, sent, settings):
    queued(user, waiting_s=settings.PLAYGROUND_QUEUED_STALE_AFTER_S - 30)
    assert reaper.redispatch_lost_jobs() == 0 and sent == []


def test_a_job_sent_once_whose_message_was_lost_is_sent_again(user, sent, settings):
    job = queued(user, waiting_s=settings.PLAYGROUND_QUEUED_STALE_AFTER_S + 5, sent_once=True)
    assert reaper.redispatch_lost_jobs() == 1 and sent == [job.pk]


def test_a_job_sent_once_a_moment_ago_is_left_alone(user, sent, settings):
    queued(user, waiting_s=settings.PLAYGROUND_QUEUED_STALE_AFTER_S - 30, sent_once=True)
    assert reaper.redispatch_lost_jobs() == 0 and sent == []


def test_a_job_queued_past_the_deadline_fails_and_frees_the_quota(user, sent, settings):
    job = queued(user, waiting_s=settings.PLAYGROUND_QUEUED_STALE_AFTER_S + 5,
                 age_s=settings.PLAYGROUND_JOB_DEADLINE_S + 5)
    reaper.redispatch_lost_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and "No worker took the job" in job.error and sent == []
    assert not GenerationJob.objects.filter(user=user, status__in=["queued", "running"]).exists()


def test_the_logs_of_long_finished_jobs_are_pruned(user, settings):
    settings.REDIS_URL = ""
    old, recent = (GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion",
                                                prompt="x", params={}, status="succeeded") for _ in range(2))
    for job in (old, recent):
        eventlog.append(job, "token", {"text": "x"})
        eventlog.append(job, "done")
    LogEvent.objects.filter(stream=eventlog.stream(old)).update(
        created_at=timezone.now() - timedelta(seconds=core_eventlog.TTL_S + 60))
    reaper.prune_event_logs()
    # The state, not the count: the session's live worker (tests/live.py) prunes the same table
    # every 2 s with this same function, and may have taken the old log first.
    assert not LogEvent.objects.filter(stream=eventlog.stream(old)).exists()
    assert LogEvent.objects.filter(stream=eventlog.stream(recent)).count() == 2


def running(user, *, silent_s: float, attempts: int = 1) -> GenerationJob:
    now = timezone.now()
    return GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion", prompt="x",
                                        params={}, status="running", attempts=attempts, started_at=now,
                                        heartbeat_at=now - timedelta(seconds=silent_s))


def test_a_silent_job_is_queued_again(user, sent, settings):
    job = running(user, silent_s=settings.PLAYGROUND_STALE_AFTER_S + 5)
    assert reaper.reap_stuck_jobs() == 1
    job.refresh_from_db()
    assert job.status == "queued" and sent == [job.pk]


def test_a_job_claimed_afresh_after_the_listing_is_left_to_its_new_worker(user, sent, settings):
    """Listed as stuck, then re-queued by another reaper and claimed by a new worker before this
    reaper takes its lock: the check under the lock sees a fresh heartbeat."""
    job = running(user, silent_s=0, attempts=2)
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.PLAYGROUND_STALE_AFTER_S)
    deadline = now - timedelta(seconds=settings.PLAYGROUND_JOB_DEADLINE_S)
    assert reaper.reap_job(job.pk, cutoff=cutoff, deadline=deadline) is False
    job.refresh_from_db()
    assert job.status == "running" and sent == []
