"""A whole evaluation run of a model whose runtime is an `openai` upstream: runner.execute_run,
in-process (no Celery: the live worker consumes the `evaluation` queue), against the live
platform's own /v1/ with a key from the runtime's variable, the tokenizer read from the model's
repository on this site. Its metrics equal the built-in engine's run of the same model, and a
cancel that arrives between its chunks of requests ends it `cancelled`."""
import math
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from core.services import create_token
from evaluation import lmeval, runner, services
from models_hub.models import Resource
from models_hub.repos.commits import Changes, commit_files
from models_hub.repos.storage import spool_bytes, store
from playground.engine import RuntimeSpec
from tests.factories import SMOLLM, StaffFactory, runnable_model

from .factories import dataset, queued_run, small_files

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"  # what the live /v1/ serves, on the built-in engine
UPSTREAM = "remote/smollm2-via-v1"
SPEC = RuntimeSpec(SMOLLM["source"], SMOLLM["location"], SMOLLM["gguf_file"])
KEY_ENV = "EVAL_UPSTREAM_RUN_KEY"
NOT_TOKENIZER = {"config.json", "generation_config.json"}


def tokenizer_files() -> dict[str, bytes]:
    """The demo model's tokenizer, from the converted model (the live stack converts it)."""
    converted = Path(settings.MODEL_CACHE_DIR) / SPEC.cache_key()
    files = {p.name: p.read_bytes() for p in converted.iterdir()
             if p.is_file() and p.suffix != ".safetensors" and p.name not in NOT_TOKENIZER}
    assert "tokenizer_config.json" in files, sorted(files)
    return files


@pytest.fixture
def upstream(live_stack, monkeypatch) -> Resource:
    """A model run by the live platform's /v1/ (as `runtime add --backend openai` makes it), its
    repository here holding only the tokenizer files, and the key in the runtime's variable."""
    runnable_model(MODEL)  # what /v1/ answers with
    call_command("runtime", "add", UPSTREAM, "--backend", "openai", "--base-url", f"{live_stack.base_url}/v1",
                 "--served-model", MODEL, "--api-key-env", KEY_ENV,
                 "--context-length", str(SMOLLM["context_length"]))  # as the engine's runtime: the same max_length
    model = Resource.objects.get(kind="model", repo_id=UPSTREAM)
    commit_files(resource=model, user=None, title="tokenizer", check_permission=False, notify_readme=False,
                 changes=Changes(additions=[(path, store(spool_bytes(data, label=path)))
                                            for path, data in tokenizer_files().items()]))
    _token, key = create_token(user=StaffFactory(), name="upstream-run")  # staff: no playground quota
    monkeypatch.setenv(KEY_ENV, key)
    lmeval.go_offline()
    return model


@pytest.fixture
def suite(db) -> Resource:
    return dataset(small_files())


def test_an_upstream_run_succeeds_with_the_engines_metrics(upstream, suite):
    run = queued_run(model=upstream, suite_dataset=suite)
    assert run.config["backend"] == "openai" and run.model_revision.startswith("upstream:")
    runner.execute_run(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.progress_done == run.progress_total == 3 + 4 * 4 + 1
    assert run.samples.filter(task="zh_en").count() == 3 and run.samples.filter(task="sums").count() == 4
    assert run.samples.filter(task="text").count() == 1

    engine_run = queued_run(model=Resource.objects.get(kind="model", repo_id=MODEL), suite_dataset=suite)
    runner.execute_run(run_id=engine_run.pk, worker="test")
    engine_run.refresh_from_db()
    assert engine_run.status == "succeeded", engine_run.error

    ours, theirs = engine_run.metrics, run.metrics
    assert set(theirs) == set(ours) == {"zh_en", "sums", "text"}
    for task in ours:
        assert set(theirs[task]) == set(ours[task]), task
    for metric in ("acc", "acc_norm", "acc_stderr", "acc_norm_stderr"):
        assert theirs["sums"][metric] == ours["sums"][metric], metric
    for metric in ("bleu", "chrf"):  # the same greedy generations
        assert theirs["zh_en"][metric] == pytest.approx(ours["zh_en"][metric], abs=1e-6), metric
    for metric in ("word_perplexity", "byte_perplexity", "bits_per_byte", "token_perplexity"):
        assert math.isclose(theirs["text"][metric], ours["text"][metric], rel_tol=1e-3), (
            metric, theirs["text"][metric], ours["text"][metric])


def test_an_upstream_run_cancelled_between_chunks_ends_cancelled(upstream, suite, monkeypatch):
    """The member cancels (services.cancel_run, as the API does) as soon as the first chunk of
    requests has been answered; the run hears of it at its next check and keeps nothing."""
    run = queued_run(model=upstream, suite_dataset=suite)
    monkeypatch.setattr(runner, "CANCEL_CHECK_S", 0)  # read the cancel event at every check, not every 0.2 s
    progress = runner._Watch.progress
    seen = []

    def progress_then_cancel(watch, n: int) -> None:
        if not seen:
            seen.append((watch.done + n, watch.total))
            services.cancel_run(user=run.user, run=run)  # while it runs: a `cancel` event in its log
        progress(watch, n)

    monkeypatch.setattr(runner._Watch, "progress", progress_then_cancel)
    runner.execute_run(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == "cancelled", (run.status, run.error)
    done, total = seen[0]
    assert 0 < done < total == 20  # cancelled after the first chunk, before the last
    assert run.progress_done < run.progress_total == total
    assert not run.samples.exists() and run.metrics == {} and run.finished_at is not None
