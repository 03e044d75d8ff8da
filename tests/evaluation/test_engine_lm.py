"""EngineLM's log-likelihoods: pairs that share context + continuation[:-1] are scored from one
engine pass, with the same numbers as each pair scored alone and as the model run directly."""
import pytest
import torch

from evaluation.lm import EngineLM
from playground.backends import engine_registry
from playground.engine import RuntimeSpec
from tests.factories import SMOLLM

pytestmark = pytest.mark.integration


@pytest.fixture
def lm():
    engine = engine_registry().get(RuntimeSpec(SMOLLM["source"], SMOLLM["location"], SMOLLM["gguf_file"]))
    return EngineLM(engine, max_length=2048, progress=lambda n: None, check=lambda: None)


def direct(lm, context: list[int], continuation: list[int]) -> float:
    ids = context + continuation
    with torch.inference_mode():
        logits = lm.engine.model(input_ids=torch.tensor([ids[:-1]])).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    return sum(float(logprobs[len(context) - 1 + n, token]) for n, token in enumerate(continuation))


def test_choices_that_differ_in_their_last_token_share_one_pass(lm, monkeypatch):
    context = lm.tok_encode("Question: What is 6 plus 7?\nAnswer:")
    choices = [lm.tok_encode(" 13"), lm.tok_encode(" 14"), lm.tok_encode(" 12"), lm.tok_encode(" 9")]
    assert len(choices[0]) > 1 and choices[0][:-1] == choices[1][:-1] == choices[2][:-1] != choices[3][:-1]
    submitted = []
    real_submit = lm.engine.submit
    monkeypatch.setattr(lm.engine, "submit", lambda request: submitted.append(request) or real_submit(request))
    together = lm._score([(context, choice) for choice in choices], [1] * len(choices))
    assert len(submitted) == 2  # " 1" + {3, 4, 2} in one pass, " 9" in another
    for choice, (logprob, _greedy) in zip(choices, together):
        assert logprob == pytest.approx(direct(lm, context, choice), abs=1e-3)
        assert logprob == pytest.approx(lm._score([(context, choice)], [1])[0][0], abs=1e-4)


def best_next(lm, ids: list[int]) -> int:
    with torch.inference_mode():
        return int(lm.engine.model(input_ids=torch.tensor([ids])).logits[0, -1].argmax())


def test_a_continuation_is_greedy_only_if_every_token_is_the_models_best(lm):
    context = lm.tok_encode("1, 2, 3, 4, 5,")
    first = best_next(lm, context)
    second = best_next(lm, context + [first])
    wrong_first, wrong_second = (first + 1) % lm.engine.vocab_size, (second + 1) % lm.engine.vocab_size
    greedy = [g for _logprob, g in lm._score([(context, [first, second]), (context, [first, wrong_second]),
                                               (context, [wrong_first, second])], [1, 1, 1])]
    assert greedy == [True, False, False]
