"""lm-evaluation-harness's own `local-completions` client against the live platform: the
log-likelihoods it computes from /v1/completions equal those computed with the model directly,
is_greedy is right, and generate_until gets text cut at its stop strings."""
from pathlib import Path

import pytest
import torch
from django.conf import settings

from core.services import create_token
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model

from .conftest import SMOLLM_SPEC

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"

LOGLIKELIHOOD = [  # (context, continuation)
    ("1, 2, 3, 4, 5, 6,", " 7"),
    ("The sky is", " purple elephant"),
    ("Question: What is the capital of France?\nAnswer:", " Paris"),
    ("Question: What is the capital of France?\nAnswer:", " Berlin, of course"),
    ("你好，", "世界"),
]


@pytest.fixture
def model_dir(live_stack) -> Path:
    return Path(settings.MODEL_CACHE_DIR) / SMOLLM_SPEC.cache_key()  # converted by the live stack


@pytest.fixture
def lm(live_stack, model_dir, monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    runnable_model()
    _token, key = create_token(user=UserFactory(), name="lm-eval")
    monkeypatch.setenv("OPENAI_API_KEY", key)
    api = pytest.importorskip("lm_eval.models.openai_completions")
    return api.LocalCompletionsAPI(base_url=f"{live_stack.base_url}/v1/completions", model=MODEL,
                                   tokenizer_backend="huggingface", tokenizer=str(model_dir), num_concurrent=1,
                                   batch_size=2, max_retries=1)


@pytest.fixture
def direct(model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()


def instances(kind: str, arguments: list[tuple]):
    from lm_eval.api.instance import Instance

    return [Instance(request_type=kind, doc={}, arguments=args, idx=i) for i, args in enumerate(arguments)]


def expected_loglikelihood(lm, model, context: str, continuation: str) -> tuple[float, bool]:
    """What a local model gives: the continuation's tokens scored after the context's, as lm-eval
    splits them (its own _encode_pair)."""
    context_ids, continuation_ids = lm._encode_pair(context, continuation)
    ids = context_ids + continuation_ids
    with torch.inference_mode():
        logprobs = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)
    positions = range(len(context_ids), len(ids))
    total = sum(float(logprobs[p - 1, ids[p]]) for p in positions)
    greedy = all(int(logprobs[p - 1].argmax()) == ids[p] for p in positions)
    return total, greedy


def test_loglikelihood_matches_the_model(lm, direct):
    results = lm.loglikelihood(instances("loglikelihood", LOGLIKELIHOOD))
    assert len(results) == len(LOGLIKELIHOOD)
    expected = [expected_loglikelihood(lm, direct, c, x) for c, x in LOGLIKELIHOOD]
    for (value, greedy), (want, want_greedy) in zip(results, expected):
        assert value == pytest.approx(want, abs=1e-3)
        assert greedy == want_greedy
    assert {g for _v, g in expected} == {True, False}  # both outcomes were checked
    # lm-eval sent its batches as several prompts per request: they ran as jobs of one group.
    groups = set(GenerationJob.objects.exclude(request_group=None).values_list("request_group", flat=True))
    assert groups and GenerationJob.objects.filter(status="succeeded").count() == len(LOGLIKELIHOOD)


def test_generate_until_stops_at_the_stop_strings(lm, direct, model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    requests = [("Count: 1, 2, 3,", {"until": [" 6"], "max_gen_toks": 12, "do_sample": False}),
                ("The capital of France is", {"until": ["\n", "."], "max_gen_toks": 8, "do_sample": False}),
                ("A list of fruits:\n1.", {"until": ["\n"], "max_gen_toks": 10, "do_sample": False})]
    outputs = lm.generate_until(instances("generate_until", requests))
    for (context, kwargs), output in zip(requests, outputs):
        ids = tokenizer(context, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            generated = direct.generate(**ids, max_new_tokens=kwargs["max_gen_toks"], do_sample=False)
        text = tokenizer.decode(generated[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        for stop in kwargs["until"]:
            text = text.split(stop)[0]
        assert output == text
        assert not output.startswith(context) and not any(stop in output for stop in kwargs["until"])
