"""The platform's metrics equal lm-eval's own CLI for the same model, data and settings: the CLI
(`lm-eval run --model hf` on the demo model's GGUF file, as a subprocess) and the platform (its
engine in-process through EngineLM) read the same generated task YAMLs over the same files.
BLEU and chrF are also recomputed with sacrebleu directly from the platform's samples."""
import json
import math
import os
import subprocess
import sys

import pytest
import sacrebleu

from evaluation import lmeval, runner, suite_spec
from evaluation.lm import EngineLM
from playground.backends import engine_registry
from playground.engine import RuntimeSpec
from tests.factories import SMOLLM

from .factories import small_files

pytestmark = pytest.mark.integration
MAX_LENGTH = 2048


class _Watch:
    deadline = float("inf")

    def start(self, total: int) -> None:
        self.total = total

    def progress(self, n: int) -> None:
        pass

    def check(self) -> None:
        pass


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("suite")
    files = small_files()
    for path, data in files.items():
        (root / "data" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "data" / path).write_bytes(data)
    suite = suite_spec.parse(suite_spec.declaration(eval_yaml=files["eval.yaml"].decode(), readme=None),
                             files=set(files))
    return root, suite


def engine():
    return engine_registry().get(RuntimeSpec(SMOLLM["source"], SMOLLM["location"], SMOLLM["gguf_file"]))


@pytest.fixture(scope="module")
def platform(suite_dir):
    root, suite = suite_dir
    lmeval.go_offline()
    watch = _Watch()
    lm = EngineLM(engine(), max_length=MAX_LENGTH, progress=watch.progress, check=watch.check)
    return runner.evaluate_suite(lm, suite, root / "data", root / "platform", watch)


@pytest.fixture(scope="module")
def cli(suite_dir):
    root, suite = suite_dir
    task_dir = root / "cli-tasks"
    lmeval.write_task_dir(suite, root / "data", task_dir)
    package = RuntimeSpec(SMOLLM["source"], SMOLLM["location"]).resolve()
    out = root / "cli-out"
    env = {**os.environ, **lmeval.OFFLINE_ENV}
    subprocess.run(
        [sys.executable, "-m", "lm_eval", "run", "--model", "hf", "--model_args",
         f"pretrained={package},gguf_file={SMOLLM['gguf_file']},dtype=float32,max_length={MAX_LENGTH}",
         "--tasks", ",".join(t.name for t in suite.tasks), "--include_path", str(task_dir),
         "--device", "cpu", "--batch_size", "1", "--output_path", str(out), "--log_samples"],
        check=True, env=env, cwd=root, timeout=600, capture_output=True)
    results = json.loads(next(out.rglob("results_*.json")).read_text())
    return results["results"]


@pytest.mark.parametrize("task,metric,tolerance", [
    ("zh_en", "bleu", 1e-9), ("zh_en", "chrf", 1e-9),
    ("sums", "acc", 0), ("sums", "acc_norm", 0),
    ("text", "word_perplexity", 1e-4), ("text", "byte_perplexity", 1e-5), ("text", "bits_per_byte", 1e-5),
])
def test_platform_metrics_equal_the_cli(platform, cli, task, metric, tolerance):
    metrics, _samples = platform
    ours, theirs = metrics[task][metric], cli[task][f"{metric},none"]
    assert math.isclose(ours, theirs, rel_tol=tolerance, abs_tol=tolerance), (ours, theirs)


def test_the_standard_error_of_accuracy_equals_the_cli(platform, cli):
    assert math.isclose(platform[0]["sums"]["acc_stderr"], cli["sums"]["acc_stderr,none"], rel_tol=1e-9)


def test_bleu_and_chrf_equal_sacrebleu_on_the_samples(platform):
    metrics, samples = platform
    rows = [s for s in samples if s["task"] == "zh_en"]
    predictions, references = [r["prediction"] for r in rows], [r["reference"] for r in rows]
    assert math.isclose(metrics["zh_en"]["bleu"], sacrebleu.corpus_bleu(predictions, [references]).score, abs_tol=1e-9)
    assert math.isclose(metrics["zh_en"]["chrf"], sacrebleu.corpus_chrf(predictions, [references]).score, abs_tol=1e-9)


def test_token_perplexity_is_per_model_token(platform, cli):
    """exp(-log-likelihood / tokens): the same log-likelihood the CLI's byte perplexity implies."""
    metrics, samples = platform
    text = [s for s in samples if s["task"] == "text"][0]
    loglikelihood = text["score"]["loglikelihood"]
    n_bytes = len(text["input"].encode("utf-8"))
    assert math.isclose(math.exp(-loglikelihood / n_bytes), cli["text"]["byte_perplexity,none"], rel_tol=1e-5)
    tokens = len(engine().tokenizer.encode(text["input"]))
    assert math.isclose(metrics["text"]["token_perplexity"], math.exp(-loglikelihood / tokens), rel_tol=1e-12)
