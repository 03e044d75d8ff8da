"""The worker side of a job under faults: deadlines, a stuck engine, tiny temperatures, and a
worker told to stop. Runs in this process with the real demo model where one is needed."""
import threading
import time
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from django.db import connection

from playground import eventlog, runner, services, tasks
from playground.backends import embedded
from playground.engine import EngineRegistry, RuntimeSpec
from playground.engine.batching import Pending
from playground.engine.process import EngineProcess
from playground.eventlog import JobLog
from playground.models import GenerationJob
from tests.factories import runnable_model
from tests.playground.conftest import registry_options

pytestmark = pytest.mark.django_db(transaction=True)  # engine and heartbeat threads use their own connections


def thread_running(target, **kwargs) -> threading.Thread:
    """A thread that gives its database connection back when it ends, as a Celery worker's
    thread does after each task (else the pool's connection stays checked out until collected)."""
    def run():
        try:
            target(**kwargs)
        finally:
            connection.close()
    return threading.Thread(target=run)


@pytest.fixture
def model(db):
    return runnable_model()


def chat_job(user, model, **params) -> GenerationJob:
    return GenerationJob.objects.create(user=user, resource=model, mode="chat",
                                        messages=[{"role": "user", "content": "Tell me a long story."}],
                                        params={"temperature": 0, **params})


LAYOUTS = ["in the worker", "in a process of its own"]
BOTH_LAYOUTS = pytest.mark.parametrize("own_registry", LAYOUTS, indirect=True)
BOTH_LAYOUTS_WARM = pytest.mark.parametrize("warm_registry", LAYOUTS, indirect=True)


def new_registry(layout: str) -> EngineRegistry | EngineProcess:
    """The worker's engines in it, or in an engine process (PLAYGROUND_ENGINE_PROCESS=on)."""
    return (EngineRegistry if layout == "in the worker" else EngineProcess)(**registry_options())


def serving(registry, monkeypatch):
    """`registry` as the worker's, with a fresh stopping flag."""
    monkeypatch.setattr(embedded, "_registry", registry)
    monkeypatch.setattr(runner, "_stopping", threading.Event())
    return registry


@pytest.fixture(params=["in the worker"])
def own_registry(request, monkeypatch):
    """A registry of this test's own, so that closing it (a worker stopping) harms no other test."""
    registry = serving(new_registry(request.param), monkeypatch)
    yield registry
    registry.close()


@pytest.fixture(scope="module")
def warm_registries():
    """One registry per layout for the module's tests that leave it open: the model loads once."""
    registries: dict[str, EngineRegistry | EngineProcess] = {}
    yield registries
    for registry in registries.values():
        registry.close()


@pytest.fixture(params=["in the worker"])
def warm_registry(request, monkeypatch, warm_registries):
    if request.param not in warm_registries:
        warm_registries[request.param] = new_registry(request.param)
    return serving(warm_registries[request.param], monkeypatch)


@BOTH_LAYOUTS_WARM
def test_a_job_past_its_deadline_ends_with_the_text_so_far(user, model, warm_registry, settings):
    warm_registry.get(RuntimeSpec.from_dict(model.runtime.spec()))  # warm: the deadline is for decoding
    settings.PLAYGROUND_JOB_DEADLINE_S = 3
    job = chat_job(user, model, max_new_tokens=1024, min_new_tokens=1024)
    started = time.monotonic()
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert time.monotonic() - started < 3 + runner.DEADLINE_GRACE_S
    assert (job.status, job.finish_reason) == ("succeeded", "timeout")
    assert job.output and 0 < job.completion_tokens < 1024


def test_a_tiny_temperature_decodes_greedily_instead_of_failing(user, model, warm_registry):
    job = chat_job(user, model, temperature=1e-45, max_new_tokens=8)
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.output


class StuckEngine:
    """Accepts a request and never runs it, as a wedged engine would."""

    def encode_chat(self, messages):
        return [1, 2, 3]

    def encode_text(self, text):
        return [1, 2, 3]

    def submit(self, request):
        return Pending(request)


def test_a_stuck_engine_frees_the_task_soon_after_the_deadline(user, model, settings, monkeypatch):
    settings.PLAYGROUND_JOB_DEADLINE_S = 1
    monkeypatch.setattr(runner, "DEADLINE_GRACE_S", 0.5)
    monkeypatch.setattr(embedded, "engine_registry", lambda: type("R", (), {"get": lambda self, spec: StuckEngine()})())
    job = chat_job(user, model, max_new_tokens=8)
    started = time.monotonic()
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert time.monotonic() - started < 5
    assert job.status == "failed" and "time limit" in job.error


@BOTH_LAYOUTS
def test_a_stopping_worker_hands_its_running_job_back(user, model, own_registry):
    job = chat_job(user, model, max_new_tokens=1024, min_new_tokens=1024)
    outcome = {}

    def run():
        try:
            runner.execute_job(job_id=job.pk)
        except runner.HandedBack:
            outcome["handed_back"] = True

    thread = thread_running(run)
    thread.start()
    deadline = time.monotonic() + 60
    while not GenerationJob.objects.filter(pk=job.pk, status="running").exclude(output="").exists():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    stopped_at = time.monotonic()
    runner.shutdown()
    thread.join(timeout=10)
    assert not thread.is_alive() and time.monotonic() - stopped_at < 10
    job.refresh_from_db()
    assert outcome == {"handed_back": True}
    assert (job.status, job.attempts, job.output) == ("queued", 0, "")


@BOTH_LAYOUTS_WARM
def test_a_cancel_while_the_job_runs_stops_it_through_the_log_pump(user, model, warm_registry, monkeypatch):
    monkeypatch.setattr(runner, "CANCEL_CHECK_S", 60.0)  # the task's own look would come a minute late
    job = chat_job(user, model, max_new_tokens=1024, min_new_tokens=1024)
    thread = thread_running(runner.execute_job, job_id=job.pk)
    thread.start()
    deadline = time.monotonic() + 60
    while not GenerationJob.objects.filter(pk=job.pk, status="running").exists():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    services.cancel_job(user=user, job=GenerationJob.objects.get(pk=job.pk))
    thread.join(timeout=30)
    assert not thread.is_alive()
    job.refresh_from_db()
    assert (job.status, job.finish_reason) == ("cancelled", "cancelled")


def test_a_stopping_worker_claims_nothing_new(user, model, own_registry):
    runner.shutdown()
    job = chat_job(user, model, max_new_tokens=4)
    with pytest.raises(runner.HandedBack):
        runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("queued", 0)


def test_the_task_queues_a_handed_back_job_again_on_its_runtime_queue(user, model, monkeypatch):
    def stopping(**kwargs):
        raise runner.HandedBack

    job = chat_job(user, model)
    sent = []
    monkeypatch.setattr(runner, "execute_job", stopping)
    monkeypatch.setattr(tasks.run_generation_job, "apply_async", lambda args, **kw: sent.append((args, kw["queue"])))
    tasks.run_generation_job(job.pk)
    assert sent == [((job.pk,), "inference.huggingfacetb.smollm2-135m-instruct")]


class _CancelledHandle:
    """A generation cancelled earlier whose backend takes `lingers_s` to let go (a slow upstream);
    it counts how often the follow loop waits on it."""

    def __init__(self, lingers_s: float):
        self.cancelled = threading.Event()
        self.cancelled.set()
        self._done_at = time.monotonic() + lingers_s
        self.waits = 0

    def wait(self, timeout: float) -> bool:
        self.waits += 1
        time.sleep(max(0.0, min(timeout, self._done_at - time.monotonic())))
        return time.monotonic() >= self._done_at

    def result(self) -> str:
        return "the text so far"

    def cancel(self) -> None:
        pass


class _QuietLog:
    text = ""

    def cancel_requested(self, **_kwargs) -> bool:
        return False


def test_a_cancelled_job_waits_for_its_backend_without_spinning():
    handle = _CancelledHandle(lingers_s=0.5)
    result = runner._follow(SimpleNamespace(pk=0), handle, _QuietLog(), deadline=time.monotonic() + 60)
    assert result == "the text so far"
    assert handle.waits < 20  # a look every CANCEL_CHECK_S, not a spin holding the GIL beside the engine


class _RunsUntilCancelled:
    def __init__(self):
        self.cancelled = threading.Event()

    def wait(self, timeout: float) -> bool:
        return self.cancelled.wait(timeout)

    def result(self) -> str:
        return "cancelled"

    def cancel(self) -> None:
        self.cancelled.set()


def running_job(user, model) -> GenerationJob:
    job = chat_job(user, model)
    GenerationJob.objects.filter(pk=job.pk).update(status="running")
    return job


@pytest.mark.parametrize("row_change", [{"cancel_requested": True}, {"status": "queued"}],
                         ids=["flagged", "taken back by the reaper"])
def test_a_job_whose_row_says_stop_stops_though_its_log_is_silent(user, model, monkeypatch, row_change):
    monkeypatch.setattr(runner, "ROW_EVERY_S", 0.05)
    job = running_job(user, model)
    GenerationJob.objects.filter(pk=job.pk).update(**row_change)  # no cancel event reached the log
    handle = _RunsUntilCancelled()
    runner._follow(job, handle, _QuietLog(), deadline=time.monotonic() + 5)
    assert handle.cancelled.is_set()


def test_a_job_appending_steadily_reads_its_log_only_before_its_first_append(user, model):
    """Tokens every 0.15 s (a batch of 8 on this CPU): each append tells whether anything else
    came, so the log is not read again for a cancel between them."""
    job = running_job(user, model)
    log = JobLog(job)
    reads = []
    read = log._cancel_in_log
    log._cancel_in_log = lambda: reads.append(1) or read()
    handle = _RunsUntilCancelled()

    def decode():
        for _ in range(8):
            time.sleep(0.15)
            log.deliver("token ")
        handle.cancel()  # the end

    thread_running(decode).start()
    runner._follow(job, handle, log, deadline=time.monotonic() + 10)
    log.close("done")
    assert log.text == "token " * 8
    assert len(reads) <= 1


def test_an_unexpected_error_fails_the_job_with_its_reason(user, model, monkeypatch):
    def broken(job):
        raise RuntimeError("the input could not be prepared")

    monkeypatch.setattr(runner, "_input_for", broken)
    job = chat_job(user, model, max_new_tokens=4)
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "RuntimeError: the input could not be prepared")


def test_a_failed_jobs_error_does_not_show_the_servers_paths(user, model, monkeypatch):
    def broken(job):
        raise FileNotFoundError("/var/lib/llm/cache/models--x/tokenizer.json")

    monkeypatch.setattr(runner, "_input_for", broken)
    job = chat_job(user, model, max_new_tokens=4)
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.error == "FileNotFoundError: …/tokenizer.json"


def test_an_attempt_the_reaper_superseded_stops_and_leaves_the_job_to_the_next(user, model, warm_registry):
    """Its heartbeats stopped reaching the database, so the reaper queued the job again, and
    another worker claimed it, while this worker still decodes."""
    job = chat_job(user, model, max_new_tokens=1024, min_new_tokens=1024)
    first = thread_running(runner.execute_job, job_id=job.pk)
    first.start()
    deadline = time.monotonic() + 60
    while not GenerationJob.objects.filter(pk=job.pk, status="running").exclude(output="").exists():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    GenerationJob.objects.filter(pk=job.pk).update(attempts=2, output="", worker="the next worker")
    job.refresh_from_db()
    second = JobLog(job)  # the next attempt's log
    second.deliver("the next attempt's text")
    first.join(timeout=15)
    assert not first.is_alive()
    job.refresh_from_db()
    assert (job.status, job.output, job.finished_at) == ("running", "", None)
    second.close("done")
    events = [(e.kind, e.data) for e in read_log(job)]
    assert events == [("token", {"text": "the next attempt's text"}), ("done", {})]


def read_log(job: GenerationJob) -> list:
    async def finished():
        return True

    async def collect():
        return [event async for event in eventlog.read(job, is_finished=finished)]

    return async_to_sync(collect)()
