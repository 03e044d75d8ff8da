"""Evaluation end to end: API → the `evaluation` queue → a real Celery worker running lm-eval on
the built-in engine → progress on the SSE stream → results, samples and the leaderboard; and a
worker killed mid-run does not leave the run stuck."""
import time

import pytest
import requests

from core.services import create_token
from evaluation.models import EvaluationRun
from tests.factories import UserFactory, runnable_model
from tests.live import sse_frames

from .factories import dataset, small_files

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture(autouse=True)
def live_hub_files(live_stack, settings):
    """Repository files where the live stack's processes read them (its VAR_DIR)."""
    settings.STORAGES = {**settings.STORAGES, "hub": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(live_stack.workdir / "var" / "hub-files")}}}


@pytest.fixture
def key(live_stack):
    runnable_model()
    _token, key = create_token(user=UserFactory(), name="live")
    return key


def request_run(stack, key, suite):
    response = requests.post(f"{stack.base_url}/api/v1/evaluations/", json={"model": MODEL, "suite": suite},
                             headers={"Authorization": f"Token {key}"}, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def wait_for(predicate, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_a_run_streams_progress_and_lands_on_the_leaderboard(live_stack, key):
    dataset(small_files(), name="live-suite")
    run_id = request_run(live_stack, key, "acme/live-suite")
    with requests.get(f"{live_stack.base_url}/api/v1/evaluations/{run_id}/stream/", stream=True, timeout=300,
                      headers={"Authorization": f"Token {key}"}) as response:
        frames = list(sse_frames(response))
    kinds = [kind for _id, kind, _data in frames]
    assert kinds[-1] == "done" and set(kinds[:-1]) == {"progress"}, kinds
    final = frames[-1][2]
    assert final["status"] == "succeeded" and final["progress"]["done"] == final["progress"]["total"] == 20
    assert set(final["metrics"]) == {"zh_en", "sums", "text"} and final["versions"]["lm_eval"] == "0.4.13"
    ids = [ident for ident, _k, _d in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    samples = requests.get(f"{live_stack.base_url}/api/v1/evaluations/{run_id}/samples/", timeout=10).json()
    assert samples["count"] == 8
    board = requests.get(f"{live_stack.base_url}/api/v1/leaderboards/acme/live-suite/", timeout=10).json()
    assert [row["model"] for row in board["results"]] == [MODEL]


def test_a_worker_killed_mid_run_does_not_leave_it_running(live_stack, key):
    files = small_files()
    files["eval.yaml"] = files["eval.yaml"].replace(b"file: t.jsonl", b"file: t_long.jsonl").replace(b"max_tokens: 16",
                                                                                       b"max_tokens: 64")
    files["t_long.jsonl"] = b"".join([files["t.jsonl"]] * 4)
    dataset(files, name="live-kill")
    run_id = request_run(live_stack, key, "acme/live-kill")
    assert wait_for(lambda: EvaluationRun.objects.get(pk=run_id).progress_done > 0)
    live_stack.kill_worker()
    live_stack.start_worker()
    assert wait_for(lambda: EvaluationRun.objects.get(pk=run_id).is_finished)
    run = EvaluationRun.objects.get(pk=run_id)
    assert run.status == "succeeded" and run.attempts == 2, (run.status, run.error)
