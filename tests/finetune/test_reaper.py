"""Nothing stays `running` after its worker died, nor `queued` after its message was lost."""
from datetime import timedelta

import pytest
from django.utils import timezone

from finetune import reaper
from finetune.models import FineTuneJob
from finetune.runner import checkpoint_dir


@pytest.fixture
def job(user, base_model, dataset):
    return FineTuneJob.objects.create(user=user, base_model=base_model, dataset=dataset,
                                      dataset_revision="0" * 40, output_name="out", status="running", attempts=1,
                                      started_at=timezone.now(), heartbeat_at=timezone.now())


def age(job, **fields):
    FineTuneJob.objects.filter(pk=job.pk).update(**fields)


def test_a_job_whose_worker_went_silent_is_queued_again_to_resume(job, settings,
                                                                  django_capture_on_commit_callbacks):
    age(job, heartbeat_at=timezone.now() - timedelta(seconds=settings.FINETUNE_STALE_AFTER_S + 1))
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert reaper.reap_stuck_jobs() == 1
    job.refresh_from_db()
    assert job.status == "queued" and len(sent) == 1 and job.dispatched_at is not None


def test_a_live_job_is_left_alone(job):
    assert reaper.reap_stuck_jobs() == 0
    job.refresh_from_db()
    assert job.status == "running"


def test_a_job_past_its_attempts_fails(job, settings):
    age(job, attempts=settings.FINETUNE_MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.FINETUNE_STALE_AFTER_S + 1))
    reaper.reap_stuck_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and "stopped" in job.error and job.finished_at is not None


def test_a_job_the_reaper_fails_leaves_no_checkpoints_behind(job, settings, tmp_path,
                                                             django_capture_on_commit_callbacks):
    settings.FINETUNE_CHECKPOINT_DIR = str(tmp_path)
    saved = checkpoint_dir(job) / "checkpoint-20"
    saved.mkdir(parents=True)
    (saved / "adapter_model.safetensors").write_bytes(b"weights")
    age(job, attempts=settings.FINETUNE_MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.FINETUNE_STALE_AFTER_S + 1))
    with django_capture_on_commit_callbacks(execute=True):
        reaper.reap_stuck_jobs()
    assert not checkpoint_dir(job).exists()
    assert job.user.notifications.get().kind == "finetune_failed"


def test_a_job_past_its_deadline_fails(job, settings):
    age(job, started_at=timezone.now() - timedelta(seconds=settings.FINETUNE_DEADLINE_S + 1))
    reaper.reap_stuck_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and "time limit" in job.error


def test_a_queued_job_whose_message_was_lost_is_sent_again(job, settings, django_capture_on_commit_callbacks):
    age(job, status="queued", dispatched_at=timezone.now() - timedelta(seconds=settings.FINETUNE_QUEUED_STALE_AFTER_S + 1))
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert reaper.redispatch_lost_jobs() == 1
    job.refresh_from_db()
    assert len(sent) == 1 and job.dispatched_at > timezone.now() - timedelta(seconds=5)
