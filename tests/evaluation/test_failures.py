"""Runs whose worker died are re-queued once, then failed; lost queued runs are sent again; a
stopping worker takes no new run; a run that cannot reach its model fails in words."""
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from evaluation import reaper, runner
from evaluation.models import EvaluationRun

from models_hub.models import Runtime
from tests.factories import ResourceFactory

from .factories import dataset, finished_run, queued_run, small_files

pytestmark = pytest.mark.django_db


def running(*, attempts: int, silent_for_s: int, started_ago_s: int = 120) -> EvaluationRun:
    run = finished_run(status="queued", metrics={})
    now = timezone.now()
    EvaluationRun.objects.filter(pk=run.pk).update(
        status="running", attempts=attempts, heartbeat_at=now - timedelta(seconds=silent_for_s),
        started_at=now - timedelta(seconds=started_ago_s), finished_at=None)
    return run


def test_a_silent_run_is_requeued_once(settings, django_capture_on_commit_callbacks):
    settings.EVALUATION_STALE_AFTER_S = 30
    run = running(attempts=1, silent_for_s=60)
    with django_capture_on_commit_callbacks(execute=True):
        assert reaper.reap_stuck_runs() == 1
    run.refresh_from_db()
    assert run.status == "queued" and run.dispatched_at is not None


def test_a_run_whose_worker_died_twice_fails_and_its_member_is_told(settings, django_capture_on_commit_callbacks):
    settings.EVALUATION_STALE_AFTER_S = 30
    run = running(attempts=2, silent_for_s=60)
    with django_capture_on_commit_callbacks(execute=True):
        reaper.reap_stuck_runs()
    run.refresh_from_db()
    assert run.status == "failed" and "worker died" in run.error
    assert run.user.notifications.get().kind == "evaluation_failed"


def test_a_run_past_its_deadline_fails_even_with_heartbeats(settings):
    settings.EVALUATION_DEADLINE_S = 60
    run = running(attempts=1, silent_for_s=0, started_ago_s=120)
    reaper.reap_stuck_runs()
    run.refresh_from_db()
    assert run.status == "failed"


def test_a_live_run_is_left_alone(settings):
    settings.EVALUATION_STALE_AFTER_S = 30
    run = running(attempts=1, silent_for_s=5)
    assert reaper.reap_stuck_runs() == 0
    run.refresh_from_db()
    assert run.status == "running"


def test_a_lost_queued_run_is_sent_again(settings, django_capture_on_commit_callbacks):
    settings.EVALUATION_QUEUED_STALE_AFTER_S = 60
    run = finished_run(status="queued", metrics={})
    EvaluationRun.objects.filter(pk=run.pk).update(dispatched_at=timezone.now() - timedelta(seconds=120),
                                                   finished_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert reaper.redispatch_lost_runs() == 1
    run.refresh_from_db()
    assert run.status == "queued" and run.dispatched_at > timezone.now() - timedelta(seconds=10)


def test_a_run_queued_past_the_deadline_fails(settings):
    settings.EVALUATION_QUEUED_STALE_AFTER_S = 60
    settings.EVALUATION_DEADLINE_S = 100
    run = finished_run(status="queued", metrics={})
    EvaluationRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=200),
                                                   finished_at=None)
    reaper.redispatch_lost_runs()
    run.refresh_from_db()
    assert run.status == "failed"


def test_a_stopping_worker_takes_no_new_run(monkeypatch):
    run = finished_run(status="queued", metrics={})
    monkeypatch.setattr(runner, "_stopping", threading.Event())
    runner.shutdown()
    with pytest.raises(runner.HandedBack):
        runner.execute_run(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == "queued" and run.attempts == 0


def test_an_upstream_model_without_tokenizer_files_fails_in_words(db):
    model = ResourceFactory(owner="remote", name="big")
    Runtime.objects.create(resource=model, backend="openai", base_url="http://127.0.0.1:9/v1", served_model="big")
    run = queued_run(model=model, suite_dataset=dataset(small_files()))
    runner.execute_run(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == "failed" and "tokenizer files" in run.error
