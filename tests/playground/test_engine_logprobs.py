"""Log-probabilities from the batching engine, checked against the model run directly."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from playground.engine import GenerationRequest

PROMPT = "The capital of France is Paris. The capital of Italy is"


def direct_logprobs(engine, ids: list[int]) -> torch.Tensor:
    """log-softmax of the model's own logits for the whole sequence, [len(ids), vocab]."""
    with torch.inference_mode():
        logits = engine.model(input_ids=torch.tensor([ids], device=engine.device)).logits[0].float()
    return torch.log_softmax(logits, dim=-1)


def across_runs(engine) -> float:
    """How closely two different computations of one log-probability agree (a cached step against
    a whole-sequence forward, or a row alone against the same row in a padded batch). float32 on
    the CPU: 1e-3. bfloat16 on a GPU keeps 8 bits of mantissa in every hidden state, and other
    shapes take other kernels: 0.014 apart was measured on an H200; a wrong token or position is
    off by far more."""
    return 1e-3 if engine.model.dtype == torch.float32 else 5e-2


def test_a_greedy_token_is_its_own_best_alternative(engine):
    ids = engine.encode_text(PROMPT)
    result = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=6, min_new_tokens=6,
                                               logprobs=True, top_logprobs=5))
    assert len(result.logprobs) == result.completion_tokens == 6
    for entry in result.logprobs:
        assert len(entry["top_logprobs"]) == 5
        assert entry["top_logprobs"][0]["token"] == entry["token"]
        assert entry["top_logprobs"][0]["logprob"] == entry["logprob"] <= 0  # exactly, as lm-eval compares
        values = [t["logprob"] for t in entry["top_logprobs"]]
        assert values == sorted(values, reverse=True)
    # The picked tokens' own texts make up the output.
    assert "".join(e["token"] for e in result.logprobs) == result.text
    assert result.prompt_logprobs is None


def test_generated_logprobs_are_the_models_own(engine):
    ids = engine.encode_text(PROMPT)
    result = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=4, min_new_tokens=4, logprobs=True))
    generated = engine.tokenizer(result.text, add_special_tokens=False)["input_ids"]
    direct = direct_logprobs(engine, ids + generated)
    for n, entry in enumerate(result.logprobs):
        assert entry["top_logprobs"] == []
        expected = float(direct[len(ids) - 1 + n, generated[n]])
        assert entry["logprob"] == pytest.approx(expected, abs=across_runs(engine))


def test_raw_logprobs_do_not_depend_on_sampling_settings(engine):
    ids = engine.encode_text(PROMPT)
    plain = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=1, logprobs=True, top_logprobs=3))
    hot = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=1, logprobs=True, top_logprobs=3,
                                            temperature=1.5, top_k=2, repetition_penalty=1.5, seed=3))
    assert hot.logprobs[0]["top_logprobs"] == plain.logprobs[0]["top_logprobs"]


@pytest.mark.parametrize("prompt", [PROMPT, "Hello wörld, 你好世界!"])
def test_echo_logprobs_match_the_model_run_directly(engine, prompt):
    ids = engine.encode_text(prompt)
    result = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=1, logprobs=True, top_logprobs=2,
                                               prompt_logprobs=True))
    direct = direct_logprobs(engine, ids)
    entries = result.prompt_logprobs
    assert len(entries) == len(ids)
    assert entries[0]["logprob"] is None and entries[0]["top_logprobs"] == []
    for n in range(1, len(ids)):
        assert entries[n]["logprob"] == pytest.approx(float(direct[n - 1, ids[n]]), abs=1e-3)
        best = direct[n - 1].topk(2)
        assert [t["logprob"] for t in entries[n]["top_logprobs"]] == pytest.approx(best.values.tolist(), abs=1e-3)
    # Each token decoded on its own; its bytes are exact even for a piece of a character.
    assert b"".join(bytes(e["bytes"]) for e in entries).decode() == prompt
    assert [e["token"] for e in entries] == [engine.tokenizer.decode([i]) for i in ids]


def test_echo_rows_batched_with_others_give_the_same_numbers(engine):
    prompts = [PROMPT, "One, two, three,", "A much longer prompt, so that the others are padded: " * 3,
               "Short"]
    requests = [dict(prompt_ids=engine.encode_text(p), max_new_tokens=3, logprobs=True, top_logprobs=1,
                     prompt_logprobs=n % 2 == 0) for n, p in enumerate(prompts)]
    alone = [engine.generate(GenerationRequest(**r)) for r in requests]
    before = len(engine.batch_sizes)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda r: engine.generate(GenerationRequest(**r)), requests))
    assert max(list(engine.batch_sizes)[before:]) > 1
    for a, b in zip(alone, together):
        assert a.text == b.text
        assert [e["logprob"] for e in b.logprobs] == pytest.approx([e["logprob"] for e in a.logprobs],
                                                                   abs=across_runs(engine))
        if a.prompt_logprobs is None:
            assert b.prompt_logprobs is None
        else:
            assert [e["logprob"] for e in b.prompt_logprobs[1:]] == pytest.approx(
                [e["logprob"] for e in a.prompt_logprobs[1:]], abs=across_runs(engine))


def test_no_new_tokens_gives_just_the_prompts_logprobs(engine):
    ids = engine.encode_text(PROMPT)
    result = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=0, logprobs=True,
                                               prompt_logprobs=True))
    assert result.text == "" and result.completion_tokens == 0 and result.logprobs == []
    assert len(result.prompt_logprobs) == len(ids)


def test_a_stop_string_cuts_the_logprobs_with_the_text(engine):
    ids = engine.encode_text("1, 2, 3, 4,")
    result = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=20, stop=["7"], logprobs=True))
    assert result.finish_reason == "stop" and "7" not in result.text
    tokens = "".join(e["token"] for e in result.logprobs)
    assert tokens.startswith(result.text) and "7" not in tokens[:len(result.text)]
    assert len(result.logprobs) <= result.completion_tokens


def test_the_end_of_sequence_token_is_reported_last(engine):
    ids = engine.encode_chat([{"role": "user", "content": "Say just: yes"}])
    result = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=30, logprobs=True, top_logprobs=1))
    assert result.finish_reason == "stop"
    assert len(result.logprobs) == result.completion_tokens + 1
    assert result.logprobs[-1]["token"] == engine.tokenizer.eos_token


def test_candidates_are_scored_from_the_prompts_last_position(engine):
    ids = engine.encode_text(PROMPT)
    paris, rome = engine.encode_text(" Paris")[0], engine.encode_text(" Rome")[0]
    result = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=0, candidates=[rome, paris]))
    direct = direct_logprobs(engine, ids)[-1]
    best = int(direct.argmax())
    assert [score for score, _greedy in result.candidate_scores] == pytest.approx(
        [float(direct[rome]), float(direct[paris])], abs=1e-3)
    assert [greedy for _score, greedy in result.candidate_scores] == [rome == best, paris == best]
    assert result.text == "" and result.completion_tokens == 0


def test_candidates_do_not_change_what_a_row_generates(engine):
    ids = engine.encode_text(PROMPT)
    plain = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=5))
    scored = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=5, candidates=[1, 2, 3]))
    assert scored.text == plain.text and len(scored.candidate_scores) == 3
    assert plain.candidate_scores is None


def test_an_out_of_range_candidate_fails_its_own_row_only(engine):
    ids = engine.encode_text(PROMPT)
    with ThreadPoolExecutor(2) as pool:
        bad = pool.submit(engine.generate, GenerationRequest(prompt_ids=ids, max_new_tokens=0,
                                                             candidates=[engine.vocab_size + 5]))
        good = pool.submit(engine.generate, GenerationRequest(prompt_ids=ids, max_new_tokens=3))
        assert good.result().completion_tokens == 3
        with pytest.raises(ValueError, match="outside the vocabulary"):
            bad.result()
