"""The batching engine when things go wrong: bad scores, failing callbacks, a failing batch, close."""
import threading

import pytest

from playground.engine import BatchingEngine, EngineClosed, GenerationError, GenerationRequest

PROMPTS = ["What is the capital of France?", "Name three colours."]


def chat(engine, text, **params):
    return GenerationRequest(prompt_ids=engine.encode_chat([{"role": "user", "content": text}]), **params)


def test_a_row_without_finite_scores_fails_alone(engine):
    bad, good = chat(engine, PROMPTS[0], max_new_tokens=6), chat(engine, PROMPTS[1], max_new_tokens=6)
    alone = engine.generate(chat(engine, PROMPTS[1], max_new_tokens=6))

    def poison(_module, _args, kwargs, output):  # NaN scores for the rows holding the bad prompt
        ids = kwargs["input_ids"]
        for r in range(ids.shape[0]):
            if ids[r, -len(bad.prompt_ids):].tolist() == bad.prompt_ids:
                output.logits[r] = float("nan")

    handle = engine.model.register_forward_hook(poison, with_kwargs=True)
    try:
        pendings = [engine.submit(bad), engine.submit(good)]
        assert all(p.wait(60) for p in pendings)
    finally:
        handle.remove()
    with pytest.raises(GenerationError, match="finite"):
        pendings[0].outcome()
    assert pendings[1].outcome().text == alone.text


def test_a_failing_callback_fails_only_its_own_row(engine):
    def explode(_delta):
        raise ValueError("callback broke")

    alone = engine.generate(chat(engine, PROMPTS[1], max_new_tokens=6))
    pendings = [engine.submit(chat(engine, PROMPTS[0], max_new_tokens=6, on_delta=explode)),
                engine.submit(chat(engine, PROMPTS[1], max_new_tokens=6))]
    assert all(p.wait(60) for p in pendings)
    with pytest.raises(ValueError, match="callback broke"):
        pendings[0].outcome()
    assert pendings[1].outcome().text == alone.text


def test_a_batch_failing_mid_run_fails_every_request_including_merged_ones(engine):
    started, late_started = threading.Event(), threading.Event()
    first = engine.submit(chat(engine, "Write a long essay about rivers.", max_new_tokens=300, min_new_tokens=300,
                               on_delta=lambda _d: started.set()))
    assert started.wait(60)
    late = engine.submit(chat(engine, PROMPTS[0], max_new_tokens=300, min_new_tokens=300,
                              on_delta=lambda _d: late_started.set()))
    assert late_started.wait(60)  # merged into the running batch and decoding

    def fail_decoding(_module, _args, kwargs):
        if kwargs["input_ids"].shape[1] == 1:
            raise RuntimeError("decode step failed")

    handle = engine.model.register_forward_pre_hook(fail_decoding, with_kwargs=True)
    try:
        finished = [first.wait(30), late.wait(30)]
    finally:
        handle.remove()
    assert finished == [True, True]
    for pending in (first, late):
        with pytest.raises(RuntimeError, match="decode step failed"):
            pending.outcome()


def test_submit_after_close_is_refused(engine):
    other = BatchingEngine(engine.model, engine.tokenizer)
    other.close()
    with pytest.raises(EngineClosed):
        other.submit(chat(other, PROMPTS[0], max_new_tokens=2))
    other._thread.join(10)
    assert not other._thread.is_alive()


def test_close_ends_running_and_queued_requests_promptly(engine):
    other = BatchingEngine(engine.model, engine.tokenizer, max_batch=1)
    started = threading.Event()
    running = other.submit(chat(other, "Write a long essay.", max_new_tokens=2000, min_new_tokens=2000,
                                on_delta=lambda _d: started.set()))
    queued = other.submit(chat(other, PROMPTS[0], max_new_tokens=4))
    assert started.wait(60)
    other.close()
    assert running.wait(10) and queued.wait(10)
    for pending in (running, queued):
        with pytest.raises(EngineClosed):
            pending.outcome()
    other._thread.join(10)
    assert not other._thread.is_alive()


def test_a_draining_close_finishes_what_it_holds_and_takes_nothing_new(engine):
    other = BatchingEngine(engine.model, engine.tokenizer, max_batch=1)
    running = other.submit(chat(other, PROMPTS[0], max_new_tokens=4, min_new_tokens=4))
    queued = other.submit(chat(other, PROMPTS[1], max_new_tokens=4, min_new_tokens=4))
    other.close(drain=True)
    with pytest.raises(EngineClosed):
        other.submit(chat(other, PROMPTS[0], max_new_tokens=2))
    assert running.outcome().completion_tokens == 4 and queued.outcome().completion_tokens == 4
    other._thread.join(10)
    assert not other._thread.is_alive()
