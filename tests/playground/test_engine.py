"""The batching engine on its own, with the real SmolLM2-135M model."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from playground.engine import GenerationRequest, ModelLoadError, RuntimeSpec
from playground.engine.loading import load_model

PROMPTS = ["What is the capital of France?", "Name three colours.", "用一句话介绍你自己。", "Write a haiku about rain."]


def chat(engine, text, **params):
    return GenerationRequest(prompt_ids=engine.encode_chat([{"role": "user", "content": text}]), **params)


def test_batched_rows_match_each_run_alone_under_greedy(engine):
    # Heterogeneous settings in one batch: token limits, stop strings, penalties.
    settings = [dict(max_new_tokens=12), dict(max_new_tokens=6, stop=["."]),
                dict(max_new_tokens=10, repetition_penalty=1.3), dict(max_new_tokens=8)]
    alone = [engine.generate(chat(engine, p, **s)) for p, s in zip(PROMPTS, settings)]
    before = len(engine.batch_sizes)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda a: engine.generate(chat(engine, a[0], **a[1])), zip(PROMPTS, settings)))
    assert max(list(engine.batch_sizes)[before:]) > 1  # they really ran batched
    assert [r.text for r in together] == [r.text for r in alone]
    assert [r.completion_tokens for r in together] == [r.completion_tokens for r in alone]


def test_max_new_tokens_is_respected_and_reported(engine):
    result = engine.generate(chat(engine, "Tell me a long story.", max_new_tokens=5, min_new_tokens=5))
    assert result.completion_tokens == 5 and result.finish_reason == "length"


def test_stop_string_cuts_the_text_and_never_leaks_into_deltas(engine):
    deltas = []
    result = engine.generate(chat(engine, "Count from 1 to 10, one per line.", max_new_tokens=40, stop=["4"],
                                  on_delta=deltas.append))
    assert result.finish_reason == "stop" and "4" not in result.text
    assert "".join(deltas) == result.text


def test_streamed_deltas_join_to_the_output_with_whole_characters(engine):
    deltas = []
    result = engine.generate(chat(engine, "请用中文写一句话。", max_new_tokens=20, on_delta=deltas.append))
    assert "".join(deltas) == result.text
    assert all("\ufffd" not in d for d in deltas)


def test_a_steps_text_reaches_the_callbacks_once_every_row_has_its_token(engine):
    # Each row's cancel check runs as it takes its token; at every delivery, both rows have
    # taken this step's token (a reader then takes the whole step's text in one wake-up).
    checks = {"a": 0, "b": 0}
    counts_at_delivery = []

    def request(name, text):
        def checked():
            checks[name] += 1
            return False
        return chat(engine, text, max_new_tokens=8, min_new_tokens=8, should_cancel=checked,
                    on_delta=lambda _delta: counts_at_delivery.append((checks["a"], checks["b"])))

    before = len(engine.batch_sizes)
    pendings = [engine.submit(request("a", PROMPTS[0])), engine.submit(request("b", PROMPTS[1]))]
    assert all(p.wait(60) for p in pendings)
    assert max(list(engine.batch_sizes)[before:]) == 2  # one batch from the first step
    assert len(counts_at_delivery) > 4
    assert all(a == b for a, b in counts_at_delivery)


def test_same_seed_same_sample_different_seed_differs(engine):
    params = dict(max_new_tokens=16, temperature=1.0, top_p=0.95, top_k=50, min_new_tokens=16)
    a = engine.generate(chat(engine, "Tell a story.", seed=7, **params)).text
    b = engine.generate(chat(engine, "Tell a story.", seed=7, **params)).text
    c = engine.generate(chat(engine, "Tell a story.", seed=8, **params)).text
    assert a == b and a != c


def test_cancellation_between_steps(engine):
    steps = []
    result = engine.generate(chat(engine, "Write a long essay.", max_new_tokens=200, min_new_tokens=200,
                                  should_cancel=lambda: len(steps.append(1) or steps) >= 3))
    assert result.finish_reason == "cancelled" and result.completion_tokens == 3


def test_completion_mode_prompt(engine):
    result = engine.generate(GenerationRequest(prompt_ids=engine.encode_text("The capital of France is"),
                                               max_new_tokens=4))
    assert result.prompt_tokens == 5 and result.completion_tokens == 4


def test_a_missing_package_is_a_readable_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not installed"):
        load_model(RuntimeSpec("package", "no_such_model_package", "x.gguf"), cache_dir=tmp_path)


def test_a_missing_directory_is_a_readable_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(RuntimeSpec("local", str(tmp_path / "nowhere")), cache_dir=tmp_path)


def test_a_request_arriving_mid_run_joins_the_running_batch(engine):
    import threading

    started = threading.Event()
    long_run = chat(engine, "Write a long essay about rivers.", max_new_tokens=40, min_new_tokens=40,
                    on_delta=lambda _d: started.set())
    late_alone = engine.generate(chat(engine, PROMPTS[0], max_new_tokens=10))
    pending = engine.submit(long_run)
    assert started.wait(60)
    before = len(engine.batch_sizes)
    late = engine.generate(chat(engine, PROMPTS[0], max_new_tokens=10))
    first = pending.outcome()
    assert 2 in list(engine.batch_sizes)[before:]  # merged into the running batch, not queued behind it
    assert first.completion_tokens == 40
    assert late.text == late_alone.text


def test_a_tiny_temperature_decodes_greedily(engine):
    greedy = engine.generate(chat(engine, PROMPTS[1], max_new_tokens=8))
    tiny = engine.generate(chat(engine, PROMPTS[1], max_new_tokens=8, temperature=1e-45))
    assert tiny.text == greedy.text and tiny.completion_tokens == greedy.completion_tokens


def test_a_request_past_its_deadline_ends_as_timeout_and_keeps_its_text(engine):
    import time

    deltas = []
    result = engine.generate(chat(engine, "Write a long essay.", max_new_tokens=5000, min_new_tokens=5000,
                                  deadline=time.monotonic() + 1.0, on_delta=deltas.append))
    assert result.finish_reason == "timeout"
    assert 0 < result.completion_tokens < 5000 and result.text and "".join(deltas) == result.text
    assert result.total_s < 20


def test_prefill_computes_logits_for_the_last_position_only(engine):
    shapes = []

    def record(_module, _args, kwargs, output):
        shapes.append((kwargs["input_ids"].shape[1], output.logits.shape[1]))

    handle = engine.model.register_forward_hook(record, with_kwargs=True)
    try:
        engine.generate(chat(engine, PROMPTS[0], max_new_tokens=2))
    finally:
        handle.remove()
    prompt_len, logits_len = shapes[0]
    assert prompt_len > 1 and logits_len == 1


def test_the_kv_cache_drops_columns_that_are_padding_in_every_row(engine):
    calls = []  # (rows, mask width, longest real length) at each forward pass

    def record(_module, _args, kwargs):
        mask = kwargs["attention_mask"]
        calls.append((mask.shape[0], mask.shape[1], int(mask.sum(-1).max())))

    long_one = chat(engine, "Please " + "think very carefully and " * 20 + "say hello.", max_new_tokens=2)
    short_one = chat(engine, "Hi", max_new_tokens=10, min_new_tokens=10)
    handle = engine.model.register_forward_pre_hook(record, with_kwargs=True)
    try:
        pendings = [engine.submit(long_one), engine.submit(short_one)]
        results = [p.outcome() for p in pendings]
    finally:
        handle.remove()
    assert calls[0][:2] == (2, len(long_one.prompt_ids))  # they ran as one batch, padded to the long prompt
    assert results[1].completion_tokens == 10
    assert calls[-1] == (1, len(short_one.prompt_ids) + 9, len(short_one.prompt_ids) + 9)
    assert all(width == longest for _rows, width, longest in calls)


def test_an_unseeded_sampled_request_leaves_the_global_rng_alone(engine):
    import torch

    torch.manual_seed(1234)
    expected = torch.rand(4)
    torch.manual_seed(1234)
    engine.generate(chat(engine, "Tell a story.", max_new_tokens=3, temperature=1.0))
    assert torch.initial_seed() == 1234
    assert torch.equal(torch.rand(4), expected)


def _first_batch_of_two(engine, monkeypatch, *, on_their_way: int) -> int:
    """Submit one request, a second 0.15 s later; the size of the batch the first started in."""
    import time

    monkeypatch.setattr(engine, "incoming", lambda: on_their_way)
    before = len(engine.batch_sizes)
    first = engine.submit(chat(engine, PROMPTS[0], max_new_tokens=2))
    time.sleep(0.15)  # well past the gather window, well within max_gather_s
    second = engine.submit(chat(engine, PROMPTS[1], max_new_tokens=2))
    first.outcome(), second.outcome()
    return list(engine.batch_sizes)[before]


def test_an_idle_engine_waits_for_jobs_on_their_way_and_starts_them_together(engine, monkeypatch):
    assert _first_batch_of_two(engine, monkeypatch, on_their_way=1) == 2


def test_without_jobs_on_their_way_a_lone_request_starts_at_once(engine, monkeypatch):
    assert _first_batch_of_two(engine, monkeypatch, on_their_way=0) == 1


def test_jobs_on_their_way_are_counted_until_submitted():
    from playground.backends.embedded import Arrival, jobs_arriving

    before = jobs_arriving()
    with Arrival() as arrival:
        assert jobs_arriving() == before + 1
        arrival.done()
        arrival.done()  # once only
        assert jobs_arriving() == before
    assert jobs_arriving() == before
