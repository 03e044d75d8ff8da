"""A training worker killed with SIGKILL mid-training: a new worker resumes the job from its last
checkpoint, the step counter carrying on from there instead of starting again at zero."""
import time

import pytest
import requests

from core.services import create_token
from finetune.models import FineTuneJob
from tests.live import LiveStack, sse_frames

from .conftest import BASE, make_dataset

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
QUEUE = "training-resume-test"  # its own queue: no other live worker of the session takes the job
MAX_STEPS = 6  # a checkpoint at 2, killed at 3 or later, resumed to 6


@pytest.fixture
def stack(django_db_blocker, tmp_path, hub_files):
    stack = LiveStack(tmp_path, queues=[QUEUE])
    stack.env.update({"HUB_FILES_DIR": str(hub_files), "FINETUNE_QUEUE": QUEUE, "FINETUNE_CHECKPOINT_EVERY": "2",
                      "FINETUNE_CHECKPOINT_DIR": str(tmp_path / "checkpoints"), "FINETUNE_HEARTBEAT_S": "1",
                      "FINETUNE_STALE_AFTER_S": "6", "FINETUNE_REAP_EVERY_S": "2"})
    with django_db_blocker.unblock():
        stack.start()
        yield stack
        stack.stop()


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_killed_workers_job_resumes_from_its_last_checkpoint(stack, user, base_model):
    make_dataset()
    _token, key = create_token(user=user, name="live")
    headers = {"Authorization": f"Token {key}"}
    response = requests.post(f"{stack.base_url}/api/v1/finetunes/", headers=headers, timeout=30, json={
        "base_model": BASE, "dataset": "acme/pairs", "output_name": "resumed",
        "params": {"max_steps": MAX_STEPS, "batch_size": 2, "max_seq_len": 64, "lora_r": 4}})
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    def checkpointed():
        job = FineTuneJob.objects.get(pk=job_id)
        return job.checkpoint_step >= 2 and job.step > job.checkpoint_step

    assert wait_for(checkpointed, 300), FineTuneJob.objects.get(pk=job_id).__dict__
    stack.kill_worker()
    killed_at = FineTuneJob.objects.get(pk=job_id)
    assert killed_at.status == "running" and killed_at.step < MAX_STEPS

    stack.start_worker()
    assert wait_for(lambda: FineTuneJob.objects.get(pk=job_id).is_finished, 400), stack.worker_log.read_text()[-3000:]
    job = FineTuneJob.objects.get(pk=job_id)
    assert job.status == "succeeded", job.error
    assert job.attempts == 2 and job.step == MAX_STEPS and job.output_model is not None

    with requests.get(f"{stack.base_url}/api/v1/finetunes/{job_id}/stream/", headers=headers, stream=True,
                      timeout=60) as stream:
        frames = list(sse_frames(stream))
    ids = [ident for ident, _kind, _data in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # one log across both attempts
    resumed = [data for _i, kind, data in frames if kind == "resumed"]
    assert len(resumed) == 1 and resumed[0]["step"] >= 2 and resumed[0]["attempt"] == 2
    after = [data["step"] for _i, kind, data in frames[[k for _i, k, _d in frames].index("resumed"):]
             if kind == "progress"]
    assert after[0] == resumed[0]["step"] + 1 and after[-1] == MAX_STEPS  # carried on, not from zero
    assert [p["step"] for p in job.history] == list(range(1, MAX_STEPS + 1))  # each step drawn once
