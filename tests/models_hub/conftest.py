from pathlib import Path

import pytest
from django.conf import settings

from playground.engine.loading import model_directory
from tests.playground.conftest import SMOLLM_SPEC

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
    return Path(model_directory(SMOLLM_SPEC, cache_dir=Path(settings.MODEL_CACHE_DIR)))
