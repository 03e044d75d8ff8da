"""A training worker the reaper took for dead while it still trained (its heartbeats stopped
reaching the database): once the job was queued again and claimed afresh, the first attempt
stops, publishes nothing and leaves the next attempt's checkpoints alone."""
from types import SimpleNamespace

import pytest
from django.utils import timezone

from core import eventlog
from finetune import runner
from finetune.models import FineTuneJob
from finetune.progress import PlatformProgress

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(user, base_model, dataset):
    return FineTuneJob.objects.create(user=user, base_model=base_model, dataset=dataset,
                                      dataset_revision="0" * 40, output_name="out", status="running", attempts=1,
                                      started_at=timezone.now(), heartbeat_at=timezone.now())


def claimed_afresh(job) -> None:
    FineTuneJob.objects.filter(pk=job.pk).update(attempts=job.attempts + 1, worker="the next worker")


def test_a_superseded_attempt_publishes_nothing(job):
    claimed_afresh(job)
    assert runner._succeed(job, trainer=None) is None
    job.refresh_from_db()
    assert (job.status, job.output_model) == ("running", None)


def test_a_superseded_attempt_is_told_to_stop_training(job):
    progress = PlatformProgress(job, eventlog.LogWriter(eventlog.stream_name(job), owner=job.attempts))
    assert not progress._cancel_requested()
    claimed_afresh(job)
    progress._flag_checked = 0.0
    assert progress._cancel_requested()


def test_a_superseded_attempt_leaves_the_next_attempts_checkpoints(job, settings, tmp_path, monkeypatch):
    settings.FINETUNE_CHECKPOINT_DIR = str(tmp_path)
    FineTuneJob.objects.filter(pk=job.pk).update(status="queued", attempts=0)
    job.refresh_from_db()
    kept = runner.checkpoint_dir(job) / "checkpoint-2" / "adapter_model.safetensors"

    def train_until_superseded(claimed, writer, resume):
        kept.parent.mkdir(parents=True)
        kept.write_bytes(b"the next attempt's weights")
        claimed_afresh(claimed)
        raise RuntimeError("the first attempt's training broke off")

    monkeypatch.setattr(runner, "_train", train_until_superseded)
    runner.execute(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == ("running", 2, "")
    assert kept.read_bytes() == b"the next attempt's weights"


def test_a_superseded_attempt_saves_no_checkpoint(job):
    """The trainer is about to save: the row is read at once, not at the next look."""
    progress = PlatformProgress(job, eventlog.LogWriter(eventlog.stream_name(job), owner=job.attempts))
    assert not progress._cancel_requested()  # looked just now
    claimed_afresh(job)
    control = SimpleNamespace(should_save=True, should_training_stop=False)
    progress.on_step_end(None, None, control)
    assert control.should_training_stop and not control.should_save
