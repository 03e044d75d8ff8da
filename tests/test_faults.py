"""Faults with real services: a live web server and worker on a Redis of their own, which the
test stops and starts. Reads stay up, submits get a clear 503, and everything recovers by itself;
a job whose queue message Redis lost still runs."""
import socket
import subprocess
import time

import pytest
import requests

from core.services import create_token
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model
from tests.live import LiveStack, free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


class RedisServer:
    """redis-server on a free loopback port, without persistence: stopping it loses its data."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture(scope="module")
def stack(redis_server, live_stack, django_db_blocker, tmp_path_factory):
    """After the shared live stack, which has converted the demo model into the cache."""
    with django_db_blocker.unblock():
        stack = LiveStack(tmp_path_factory.mktemp("faults"), redis_url=redis_server.url).start()
        yield stack
        stack.stop()


@pytest.fixture
def key(stack):
    runnable_model()
    return create_token(user=UserFactory(), name="faults")[1]


def submit(stack, key):
    return requests.post(f"{stack.base_url}/api/v1/playground/jobs/", headers={"Authorization": f"Token {key}"},
                         json={"model": MODEL, "mode": "completion", "prompt": "Once upon a time",
                               "params": {"max_new_tokens": 4, "temperature": 0}}, timeout=30)


def finishes(job_id: int, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if GenerationJob.objects.get(pk=job_id).status == "succeeded":
            return True
        time.sleep(0.3)
    return False


def test_redis_going_away_keeps_reads_up_refuses_submits_and_recovers(stack, redis_server, key):
    assert finishes(submit(stack, key).json()["id"])
    redis_server.stop()
    for path in ("/", "/forum/", "/hub/", "/api/v1/threads/", "/api/v1/resources/", "/api/v1/categories/"):
        assert requests.get(stack.base_url + path, timeout=30).status_code == 200, path
    refused = submit(stack, key)
    assert refused.status_code == 503 and "unavailable" in refused.json()["detail"]
    redis_server.start()
    deadline = time.monotonic() + 30
    while (accepted := submit(stack, key)).status_code != 202:
        assert time.monotonic() < deadline, accepted.text
        time.sleep(1)
    assert finishes(accepted.json()["id"])  # the worker reconnected by itself


def test_a_job_whose_queue_message_was_lost_still_runs(stack, redis_server, key):
    stack.kill_worker()  # nobody takes the message...
    job_id = submit(stack, key).json()["id"]
    redis_server.stop()  # ...and Redis loses it
    redis_server.start()
    stack.start_worker()
    assert finishes(job_id, timeout=150)  # the reaper sent it again
