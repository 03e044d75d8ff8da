"""An `openai` runtime's path: UpstreamLM (lm-eval's own local-completions client, with the
runtime's key variable, fed in chunks with progress) against an OpenAI-compatible /v1/ — the
live platform's own — gives the same metrics as the built-in engine in-process."""
import math
from pathlib import Path

import pytest
from django.conf import settings

from core.services import create_token
from evaluation import lmeval, runner, suite_spec
from evaluation.lm import EngineLM, UpstreamLM
from playground.backends import engine_registry
from playground.engine import RuntimeSpec
from tests.factories import SMOLLM, StaffFactory, runnable_model

from .factories import small_files

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
SPEC = RuntimeSpec(SMOLLM["source"], SMOLLM["location"], SMOLLM["gguf_file"])


class Watch:
    deadline = float("inf")

    def __init__(self):
        self.done = 0
        self.total = 0

    def start(self, total: int) -> None:
        self.total = total

    def progress(self, n: int) -> None:
        self.done += n

    def check(self) -> None:
        pass


@pytest.fixture
def data(tmp_path):
    files = small_files()
    for path, content in files.items():
        (tmp_path / "data" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / path).write_bytes(content)
    suite = suite_spec.parse(suite_spec.declaration(eval_yaml=files["eval.yaml"].decode(), readme=None),
                             files=set(files))
    return tmp_path, suite


def test_an_upstream_scores_as_the_engine_does(live_stack, data, monkeypatch):
    root, suite = data
    runnable_model()
    _token, key = create_token(user=StaffFactory(), name="upstream-eval")  # staff: no playground quota
    monkeypatch.setenv("EVAL_UPSTREAM_KEY", key)
    lmeval.go_offline()
    engine = engine_registry().get(SPEC)
    local_watch, upstream_watch = Watch(), Watch()
    local = EngineLM(engine, max_length=2048, progress=local_watch.progress, check=local_watch.check)
    upstream = UpstreamLM(api_key_env="EVAL_UPSTREAM_KEY", progress=upstream_watch.progress, check=upstream_watch.check,
                          base_url=f"{live_stack.base_url}/v1/completions", model=MODEL,
                          tokenizer_backend="huggingface", tokenizer=str(Path(settings.MODEL_CACHE_DIR) / SPEC.cache_key()),
                          max_length=2048, num_concurrent=2, batch_size=8, max_retries=1)
    ours, _ = runner.evaluate_suite(local, suite, root / "data", root / "local", local_watch)
    theirs, _ = runner.evaluate_suite(upstream, suite, root / "data", root / "upstream", upstream_watch)
    assert upstream_watch.done == upstream_watch.total == local_watch.total == 20
    assert ours["sums"]["acc"] == theirs["sums"]["acc"] and ours["sums"]["acc_norm"] == theirs["sums"]["acc_norm"]
    assert ours["zh_en"]["chrf"] == pytest.approx(theirs["zh_en"]["chrf"], abs=1e-6)
    assert math.isclose(ours["text"]["byte_perplexity"], theirs["text"]["byte_perplexity"], rel_tol=1e-3)
    assert math.isclose(ours["text"]["token_perplexity"], theirs["text"]["token_perplexity"], rel_tol=1e-3)
