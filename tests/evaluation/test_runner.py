"""The worker side, in-process on the real demo model (no Celery): a run's metrics, samples,
progress events and versions; cancel; the deadline. Model-heavy: kept to a small suite."""
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.utils import timezone

from core import eventlog
from evaluation import runner, services
from evaluation.models import EvaluationRun
from models_hub import demo_dataset
from tests.factories import runnable_model

from .factories import dataset, queued_run, small_files

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(db):
    return queued_run(model=runnable_model(), suite_dataset=dataset(small_files()))


def events(run) -> list:
    async def collect():
        async def finished():
            return True
        return [e async for e in eventlog.read(eventlog.stream_name(run), is_finished=finished)]
    return async_to_sync(collect)()


def test_a_run_records_metrics_samples_progress_and_versions(run):
    runner.execute_run(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert set(run.metrics) == {"zh_en", "sums", "text"}
    assert 0 <= run.metrics["zh_en"]["chrf"] <= 100 and run.metrics["zh_en"]["chrf_stderr"] is not None
    assert 0 <= run.metrics["sums"]["acc"] <= 1 and run.metrics["sums"]["acc_stderr"] > 0
    text = run.metrics["text"]
    assert text["word_perplexity"] > text["byte_perplexity"] > 1 and text["token_perplexity"] > 1
    assert run.progress_total == 3 + 4 * 4 + 1 == run.progress_done
    assert run.samples.filter(task="zh_en").count() == 3 and run.samples.filter(task="sums").count() == 4
    sample = run.samples.filter(task="zh_en").first()
    assert sample.input.startswith("Translate Chinese to English.") and sample.reference and "chrf" in sample.score
    assert run.versions["lm_eval"] == "0.4.13" and run.versions["sacrebleu"]
    assert run.tokens > 0 and run.duration_s > 0
    kinds = [e.kind for e in events(run)]
    assert kinds[0] == "progress" and kinds[-1] == "done"
    last_progress = [e for e in events(run) if e.kind == "progress"][-1]
    assert last_progress.data == {"done": run.progress_total, "total": run.progress_total}
    told = run.user.notifications.get()
    assert told.kind == "evaluation_done" and told.link == run.get_absolute_url() and run.model.repo_id in told.subject


def test_a_cancelled_run_stops(db):
    demo = dataset(demo_dataset.files(), name="demo")  # about a minute and a half of work: cancelled well before
    run = queued_run(model=runnable_model(), suite_dataset=demo)
    def work() -> None:
        try:
            runner.execute_run(run_id=run.pk, worker="test")
        finally:
            connection.close()  # this thread's own connection

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 120
    while not EvaluationRun.objects.filter(pk=run.pk, status="running", progress_total__gt=0).exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    services.cancel_run(user=run.user, run=run)
    worker.join(60)
    run.refresh_from_db()
    assert not worker.is_alive() and run.status == "cancelled"
    assert not run.samples.exists() and run.finished_at <= timezone.now()
    assert not run.user.notifications.exists()  # the member cancelled it: nothing to tell


def test_a_run_past_its_deadline_fails(run, settings):
    settings.EVALUATION_DEADLINE_S = 0
    runner.execute_run(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == "failed" and "time limit" in run.error
    assert events(run)[-1].kind == "failed"
    assert run.user.notifications.get().kind == "evaluation_failed"


def test_a_superseded_attempt_stores_nothing(run):
    """The reaper queued the run again and another worker claimed it while this one still ran."""
    EvaluationRun.objects.filter(pk=run.pk).update(status="running", attempts=2)
    run.attempts = 1
    assert runner._succeed(run, metrics={"t": {"acc": 1.0}}, samples=[], tokens=1, duration_s=1.0) is None
    run.refresh_from_db()
    assert (run.status, run.metrics) == ("running", {})


def test_a_superseded_attempt_is_told_to_stop(run):
    EvaluationRun.objects.filter(pk=run.pk).update(status="running", attempts=2)
    run.attempts = 1
    watch = runner._Watch(run, eventlog.LogWriter(eventlog.stream_name(run), owner=1), deadline=time.monotonic() + 60)
    with pytest.raises(runner.Stopped):
        watch.check()
