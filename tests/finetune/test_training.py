"""Real (tiny) training in this process: TRL + PEFT on the demo model, the job's progress in its
row and event log, and the adapter published as a draft model repository."""
import threading
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.db import connection

from core import eventlog
from finetune import runner, services
from finetune.models import FineTuneJob
from models_hub.models import Relation
from models_hub.repos.reads import entries, head

from .conftest import TINY

pytestmark = pytest.mark.django_db(transaction=True)


def submit(user, **params) -> FineTuneJob:
    return services.submit_finetune(user=user, base_model="HuggingFaceTB/SmolLM2-135M-Instruct",
                                    dataset="acme/pairs", params={**TINY, **params}, output_name="pairs-lora")


def events_of(job: FineTuneJob) -> list:
    async def read():
        async def finished():
            return True
        return [e async for e in eventlog.read(eventlog.stream_name(job), is_finished=finished)]
    return async_to_sync(read)()


@pytest.fixture(autouse=True)
def unqueued(monkeypatch):
    """These jobs run in this process: a live worker elsewhere in the session consumes the
    training queue, and must not claim them first."""
    monkeypatch.setattr(services, "enqueue", lambda job: None)


@pytest.fixture(autouse=True)
def checkpoints(settings, tmp_path):
    settings.FINETUNE_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    settings.FINETUNE_CHECKPOINT_EVERY = 2
    return Path(settings.FINETUNE_CHECKPOINT_DIR)


def test_a_job_trains_and_publishes_its_adapter_as_a_draft_model(user, base_model, dataset, checkpoints):
    job = submit(user)
    runner.execute(job_id=job.pk, worker="test")
    job = FineTuneJob.objects.for_list().get(pk=job.pk)
    assert job.status == "succeeded", job.error
    assert job.step == job.total_steps == 4 and job.attempts == 1 and job.loss > 0
    assert [p["step"] for p in job.history] == [1, 2, 3, 4]
    assert {"trl", "peft", "transformers", "torch"} <= set(job.versions)
    assert not any(checkpoints.iterdir())  # an ended job's checkpoints are gone

    model = job.output_model
    assert model.repo_id == f"{user.username}/pairs-lora" and model.submitter == user and not model.is_published
    files = {e.path for e in entries(head(model))}
    assert {"adapter_config.json", "adapter_model.safetensors", "loss_curve.svg", "README.md"} <= files
    assert Relation.objects.filter(source=model, target=base_model, kind="base_model").exists()
    assert Relation.objects.filter(source=model, target=dataset, kind="trained_on").exists()
    assert model.runtime.base == base_model and model.runtime.revision == head(model).sha
    assert job.dataset_revision[:12] in model.card and "中文说明" in model.card
    assert f"trl {job.versions['trl']}" in model.card and f"{job.loss:.4f}" in model.card

    kinds = [e.kind for e in events_of(job)]
    assert kinds[0] == "started" and kinds.count("progress") == 4 and kinds[-1] == "done"
    assert kinds.count("checkpoint") == 2  # steps 2 and 4
    told = user.notifications.get()
    assert (told.kind, told.subject, told.link) == ("finetune_done", model.repo_id, job.get_absolute_url())


def test_a_cancel_event_stops_training_after_the_current_step(user, base_model, dataset):
    job = submit(user, max_steps=200)
    def work():
        try:
            runner.execute(job_id=job.pk, worker="test")
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 240
    while FineTuneJob.objects.get(pk=job.pk).step < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    services.cancel_finetune(user=user, job=job)
    worker.join(timeout=120)
    job.refresh_from_db()
    assert job.status == "cancelled" and 1 <= job.step < 200 and job.output_model is None
    assert [e.kind for e in events_of(job)][-1] == "done"
