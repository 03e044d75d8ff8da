"""Chunked prefill: a prompt that arrives while rows decode runs a chunk at a time between their
steps (playground/engine/prefill.py), with the real SmolLM2-135M model."""
import threading
import time

import pytest

from playground.engine import BatchingEngine, GenerationRequest

PROMPTS_SHORT = "Name three colours."
PARAGRAPH = ("Rivers carry water from the hills to the sea, and towns grow along their banks. "
             "Boats move goods, mills turn, and floods bring silt to the fields. ")
LONG_TEXT, MEDIUM_TEXT = PARAGRAPH * 6 + "Summarise this.", PARAGRAPH * 5 + "Summarise this."


@pytest.fixture
def chunked(engine):
    """An engine on the session's model that prefills 32 tokens at a time beside decoding rows."""
    other = BatchingEngine(engine.model, engine.tokenizer, decode_threads=engine.decode_threads,
                           prefill_chunk_tokens=32)
    yield other
    other.close()
    other._thread.join(30)  # its last step is done before the next test hooks the shared model


def chat(engine, text, **params):
    return GenerationRequest(prompt_ids=engine.encode_chat([{"role": "user", "content": text}]), **params)


def decoding(engine, tokens: int = 200):
    """A request that has started decoding, and its list of tokens taken so far (one entry per
    step: a row checks whether it is cancelled as it takes each token)."""
    started, taken = threading.Event(), []

    def check() -> bool:
        taken.append(1)
        started.set()
        return False

    pending = engine.submit(chat(engine, "Write a long essay about rivers.", max_new_tokens=tokens,
                                 min_new_tokens=tokens, should_cancel=check))
    assert started.wait(60)
    return pending, taken


def forward_widths(engine, record):
    """Call `record(input width)` before each forward pass of the engine's model."""
    def hook(_module, _args, kwargs) -> None:
        record(kwargs["input_ids"].shape[1])

    return engine.model.register_forward_pre_hook(hook, with_kwargs=True)


def test_a_prompt_prefilled_in_chunks_beside_decoding_rows_gives_the_same_greedy_text(chunked):
    alone = chunked.generate(chat(chunked, LONG_TEXT, max_new_tokens=12))
    running, _taken = decoding(chunked)
    widths = []
    handle = forward_widths(chunked, widths.append)
    try:
        joined = chunked.generate(chat(chunked, LONG_TEXT, max_new_tokens=12))
    finally:
        handle.remove()
        chunked.close()  # ends the running request
    chunks = [w for w in widths if w > 1]
    assert len(chunks) > 3 and all(w <= 32 for w in chunks)
    assert sum(chunks) == len(chat(chunked, LONG_TEXT).prompt_ids)
    assert joined.text == alone.text and joined.completion_tokens == alone.completion_tokens
    running.wait(30)


def test_decoding_rows_take_a_token_between_the_chunks_of_a_joining_prompt(chunked):
    running, taken = decoding(chunked)
    tokens_at_chunk = []
    handle = forward_widths(chunked, lambda width: tokens_at_chunk.append(len(taken)) if width > 1 else None)
    try:
        chunked.generate(chat(chunked, LONG_TEXT, max_new_tokens=2))
    finally:
        handle.remove()
        chunked.close()
    assert len(tokens_at_chunk) > 3
    assert all(b == a + 1 for a, b in zip(tokens_at_chunk, tokens_at_chunk[1:]))
    running.wait(30)


def test_prompt_logprobs_are_the_same_when_the_prompt_runs_in_chunks(chunked):
    ids = chunked.encode_text(LONG_TEXT)
    request = dict(prompt_ids=ids, max_new_tokens=0, prompt_logprobs=True, top_logprobs=2)
    alone = chunked.generate(GenerationRequest(**request))
    running, _taken = decoding(chunked)
    widths = []  # a prompt's log-probabilities come from the decoder's hidden states
    handle = chunked.model.get_decoder().register_forward_pre_hook(
        lambda _m, _a, kwargs: widths.append(kwargs["input_ids"].shape[1]) and None, with_kwargs=True)
    try:
        joined = chunked.generate(GenerationRequest(**request))
    finally:
        handle.remove()
        chunked.close()
    assert len([w for w in widths if w > 1]) > 3
    assert len(joined.prompt_logprobs) == len(ids)
    assert [e["token"] for e in joined.prompt_logprobs] == [e["token"] for e in alone.prompt_logprobs]
    for a, b in zip(alone.prompt_logprobs[1:], joined.prompt_logprobs[1:]):
        assert b["logprob"] == pytest.approx(a["logprob"], abs=1e-3)
        assert [t["token"] for t in b["top_logprobs"]] == [t["token"] for t in a["top_logprobs"]]
    running.wait(30)


def test_a_prompt_arriving_at_an_idle_engine_runs_in_one_pass(chunked):
    widths = []
    handle = forward_widths(chunked, widths.append)
    try:
        chunked.generate(chat(chunked, LONG_TEXT, max_new_tokens=2))
    finally:
        handle.remove()
    assert widths[0] == len(chat(chunked, LONG_TEXT).prompt_ids)


def test_a_failing_chunk_fails_only_the_joining_request(chunked):
    running, _taken = decoding(chunked, tokens=40)
    calls = []

    def fail_second_chunk(_module, _args, kwargs):
        if kwargs["input_ids"].shape[1] > 1:
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("chunk failed")

    handle = chunked.model.register_forward_pre_hook(fail_second_chunk, with_kwargs=True)
    try:
        joining = chunked.submit(chat(chunked, LONG_TEXT, max_new_tokens=2))
        assert joining.wait(60)
    finally:
        handle.remove()
    with pytest.raises(RuntimeError, match="chunk failed"):
        joining.outcome()
    assert running.outcome().completion_tokens == 40


@pytest.mark.parametrize("other_text, cancel_at", [
    (PROMPTS_SHORT, 2),  # none of the columns run so far is the other prompt's: its cache starts again
    (MEDIUM_TEXT, 4),  # some are: the columns that are padding for it are cut from the cache
])
def test_a_request_cancelled_while_its_prompt_runs_in_chunks_ends_before_the_rest_runs(chunked, other_text,
                                                                                      cancel_at):
    other_alone = chunked.generate(chat(chunked, other_text, max_new_tokens=5))
    running, _taken = decoding(chunked)
    cancel, chunks, submitted, ended_before = threading.Event(), [], [], []

    def on_forward(width: int) -> None:
        if width == 1 and not submitted:  # on the scheduler's thread: both are queued before it takes any
            submitted.extend([chunked.submit(chat(chunked, LONG_TEXT, max_new_tokens=5, should_cancel=cancel.is_set)),
                              chunked.submit(chat(chunked, other_text, max_new_tokens=5))])
        elif width > 1:
            chunks.append(width)
            if len(chunks) == cancel_at:
                cancel.set()
            elif len(chunks) == cancel_at + 1:
                ended_before.append(submitted[0].wait(0))

    handle = forward_widths(chunked, on_forward)
    try:
        deadline = time.monotonic() + 60
        while len(submitted) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        result, other = (pending.outcome() for pending in submitted)
    finally:
        handle.remove()
        chunked.close()
    assert chunks[0] == 16  # the two prompts ran together, 16 positions of each a chunk
    assert result.finish_reason == "cancelled" and result.completion_tokens == 0 and result.text == ""
    assert ended_before == [True]  # it ended before the next chunk ran
    # After it left, each column of the other prompt ran once, and none that is padding for it.
    run, long_len = 16 * cancel_at, len(chat(chunked, LONG_TEXT).prompt_ids)
    other_len = len(chat(chunked, other_text).prompt_ids)
    already = max(0, run - (long_len - other_len))  # the other prompt's own columns among those run
    assert sum(chunks) == run + other_len - already
    assert other.text == other_alone.text and other.completion_tokens == other_alone.completion_tokens
    running.wait(30)


def test_close_fails_a_request_whose_prompt_is_running_in_chunks(chunked):
    from playground.engine import EngineClosed

    running, _taken = decoding(chunked)
    chunks = []

    def close_at_second_chunk(width: int) -> None:
        if width > 1:
            chunks.append(width)
            if len(chunks) == 2:
                chunked.close()

    handle = forward_widths(chunked, close_at_second_chunk)
    try:
        joining = chunked.submit(chat(chunked, LONG_TEXT, max_new_tokens=5))
        assert joining.wait(60) and running.wait(60)
    finally:
        handle.remove()
    for pending in (joining, running):
        with pytest.raises(EngineClosed):
            pending.outcome()
    assert len(chunks) == 2
