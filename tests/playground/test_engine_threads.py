"""The engine's thread counts: prefills on every intra-op thread, decode steps on the fewest that
decode about as fast as the most, measured when the engine starts (playground/engine/threads.py)."""
import time

import pytest
import torch

from playground.engine import BatchingEngine, GenerationRequest
from playground.engine.threads import candidates, fewest_within, time_steps


@pytest.fixture
def two_threads():
    """This thread at 2 intra-op threads (an engine's prefill count is the one it is built with)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


class RecordingModel:
    """The real model, noting for each forward pass its input width and the calling thread's count."""

    def __init__(self, model):
        self._model = model
        self.calls: list[tuple[int, int]] = []

    def __getattr__(self, name):
        return getattr(self._model, name)

    def __call__(self, **kwargs):
        self.calls.append((kwargs["input_ids"].shape[1], torch.get_num_threads()))
        return self._model(**kwargs)


def test_candidates_double_up_to_every_thread():
    assert candidates(1) == [1]
    assert candidates(2) == [1, 2]
    assert candidates(8) == [1, 2, 4, 8]
    assert candidates(12) == [1, 2, 4, 8, 12]


def test_fewer_threads_win_unless_more_are_clearly_faster():
    assert fewest_within({1: 0.100, 2: 0.098}) == 1
    assert fewest_within({1: 0.100, 2: 0.080}) == 2
    assert fewest_within({1: 0.100, 2: 0.060, 4: 0.059}) == 2


def test_timing_alternates_the_counts_and_leaves_the_thread_as_it_was(two_threads):
    seen = []
    times = time_steps(lambda: seen.append(torch.get_num_threads()), [1, 2], rounds=2, steps=2)
    assert set(times) == {1, 2} and all(seconds >= 0 for seconds in times.values())
    assert seen == [1, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1]  # each count: one untimed step, then two
    assert torch.get_num_threads() == 2


def test_prefill_runs_on_every_thread_and_decode_on_the_chosen_count(engine, two_threads):
    model = RecordingModel(engine.model)
    other = BatchingEngine(model, engine.tokenizer, decode_threads=1)
    try:
        prompt = engine.encode_chat([{"role": "user", "content": "Hi"}])
        other.generate(GenerationRequest(prompt_ids=prompt, max_new_tokens=3, min_new_tokens=3))
    finally:
        other.close()
    assert model.calls[0] == (len(prompt), 2)  # the prefill
    assert model.calls[1:] == [(1, 1), (1, 1)]  # the decode steps


def test_an_idle_engine_leaves_its_thread_at_the_prefill_count(engine, two_threads):
    other = BatchingEngine(engine.model, engine.tokenizer, decode_threads=1)
    try:
        prompt = engine.encode_chat([{"role": "user", "content": "Hi"}])
        other.generate(GenerationRequest(prompt_ids=prompt, max_new_tokens=2, min_new_tokens=2))
        deadline = time.monotonic() + 5
        while other._threads_now != 2 and time.monotonic() < deadline:  # set once its run has ended
            time.sleep(0.01)
    finally:
        other.close()
    assert other._threads_now == 2


@pytest.mark.parametrize("pinned,used", [(1, 1), (64, 2)])  # never more than the prefills use
def test_an_engine_given_its_decode_threads_measures_nothing(engine, two_threads, pinned, used):
    if engine.device.type != "cpu":
        pytest.skip("an engine on an accelerator keeps torch's threads as they are")
    other = BatchingEngine(engine.model, engine.tokenizer, decode_threads=pinned)
    other.close()
    assert other.decode_threads == used and other.decode_step_seconds == {}


def test_an_engine_on_the_cpu_measures_its_decode_threads(engine, two_threads):
    if engine.device.type != "cpu":
        pytest.skip("an engine on an accelerator keeps torch's threads as they are")
    other = BatchingEngine(engine.model, engine.tokenizer, max_batch=2)
    other.close()
    assert set(other.decode_step_seconds) == {1, 2}
    assert all(seconds > 0 for seconds in other.decode_step_seconds.values())
    assert other.decode_threads == fewest_within(other.decode_step_seconds)
