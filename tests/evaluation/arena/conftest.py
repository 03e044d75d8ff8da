import pytest

from tests.factories import runnable_model

from .factories import TWIN


@pytest.fixture
def contenders(db):
    """Two runnable models: the demo model and a second resource whose runtime is the same GGUF."""
    return runnable_model(), runnable_model(TWIN)
