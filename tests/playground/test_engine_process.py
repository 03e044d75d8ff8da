"""The engines in a process of their own (PLAYGROUND_ENGINE_PROCESS): the same text and scores as
in this process, cancels and callbacks across the pipe, and a crash of that process that fails
only what it held. Each test drives a real engine process with the demo model."""
import os
import signal
import threading
import time
from types import SimpleNamespace

import pytest

from evaluation.lm import EngineLM
from playground.backends import embedded
from playground.engine import EngineClosed, GenerationError, GenerationRequest, ModelLoadError, RuntimeSpec
from playground.engine import process
from playground.engine.process import EngineProcess, arrivals_counter
from tests.playground.conftest import SMOLLM_SPEC, registry_options

pytestmark = pytest.mark.integration
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def engine_process(**options) -> EngineProcess:
    return EngineProcess(**registry_options(), **options)


@pytest.fixture(scope="module")
def host():
    host = engine_process()
    yield host
    host.close()


@pytest.fixture(scope="module")
def remote(host):
    return host.get(SMOLLM_SPEC)


def long_request(remote, **fields) -> GenerationRequest:
    return GenerationRequest(prompt_ids=remote.encode_chat(QUESTION), max_new_tokens=400, min_new_tokens=400,
                             **fields)


def test_it_streams_the_text_the_engine_in_this_process_gives(remote, engine):
    ids = remote.encode_chat(QUESTION)
    assert ids == engine.encode_chat(QUESTION) and remote.vocab_size == engine.vocab_size
    deltas = []
    there = remote.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=24, on_delta=deltas.append))
    here = engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=24))
    assert there.text == here.text and "Paris" in there.text
    assert "".join(deltas) == there.text and len(deltas) > 1
    assert (there.finish_reason, there.completion_tokens) == (here.finish_reason, here.completion_tokens)


def test_a_cancel_crosses_to_the_engine_process(remote):
    cancel = threading.Event()
    first_text = threading.Event()
    pending = remote.submit(long_request(remote, should_cancel=cancel.is_set, on_delta=lambda _t: first_text.set()))
    assert first_text.wait(60)
    cancel.set()
    result = pending.outcome()
    assert result.finish_reason == "cancelled" and 0 < result.completion_tokens < 400


def test_a_failing_callback_ends_its_own_request_with_its_error(remote):
    def broken(_text):
        raise ValueError("the log is full")

    failing = remote.submit(long_request(remote, on_delta=broken))
    healthy = remote.submit(GenerationRequest(prompt_ids=remote.encode_chat(QUESTION), max_new_tokens=8))
    with pytest.raises(ValueError, match="the log is full"):
        failing.outcome()
    assert healthy.outcome().completion_tokens > 0


def test_a_callback_that_raises_leaves_the_other_requests_served(remote):
    def broken(_pending):
        raise RuntimeError("the caller's own bug")

    ended = remote.submit(GenerationRequest(prompt_ids=remote.encode_chat(QUESTION), max_new_tokens=4, on_end=broken))
    assert ended.outcome().completion_tokens > 0
    assert remote.generate(GenerationRequest(prompt_ids=remote.encode_chat(QUESTION), max_new_tokens=4)).text


def test_a_cancel_check_that_raises_ends_its_request_and_later_cancels_still_cross(remote):
    def broken():
        raise RuntimeError("the flag is gone")

    with pytest.raises(RuntimeError, match="the flag is gone"):
        remote.submit(long_request(remote, should_cancel=broken)).outcome()
    cancel = threading.Event()
    pending = remote.submit(long_request(remote, should_cancel=cancel.is_set))
    cancel.set()
    assert pending.outcome().finish_reason == "cancelled"


def test_a_sigterm_to_the_engine_process_is_left_to_the_worker(host, remote):
    """A SIGTERM to the whole process group reaches the worker, which hands its jobs back and
    then closes the engine process: killed first, it would fail them instead."""
    pending = remote.submit(GenerationRequest(prompt_ids=remote.encode_chat(QUESTION), max_new_tokens=24))
    os.kill(host.pid, signal.SIGTERM)
    assert "Paris" in pending.outcome().text


def test_the_evaluation_scores_match_the_engine_in_this_process(remote, engine):
    def score(on) -> list[tuple[float, bool]]:
        lm = EngineLM(on, max_length=2048, progress=lambda n: None, check=lambda: None)
        context = lm.tok_encode("Question: What is 6 plus 7?\nAnswer:")
        return lm._score([(context, lm.tok_encode(" 13")), (context, lm.tok_encode(" 9"))], [1, 1])

    for (there, there_greedy), (here, here_greedy) in zip(score(remote), score(engine)):
        assert there == pytest.approx(here, abs=1e-4) and there_greedy == here_greedy


def test_a_model_that_cannot_load_fails_with_words_and_the_warm_one_serves_on(host, remote, tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        host.get(RuntimeSpec("local", str(tmp_path / "missing")))
    assert remote.generate(GenerationRequest(prompt_ids=remote.encode_chat(QUESTION), max_new_tokens=4)).text


def test_a_killed_engine_process_fails_what_it_held_and_the_next_request_starts_another(host, remote):
    streaming = threading.Event()
    pending = remote.submit(long_request(remote, on_delta=lambda _t: streaming.set()))
    assert streaming.wait(60)
    killed, child = host.pid, host._child
    os.kill(killed, 9)
    with pytest.raises(GenerationError, match="SIGKILL"):
        pending.outcome()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not child.conn.closed:
        time.sleep(0.05)
    assert child.conn.closed  # its pipe is not kept open by the one that died
    again = host.get(SMOLLM_SPEC).generate(GenerationRequest(prompt_ids=remote.encode_chat(QUESTION),
                                                              max_new_tokens=24))
    assert "Paris" in again.text and host.pid not in (None, killed)


def test_closing_fails_what_it_holds_and_refuses_later_requests():
    host = engine_process()
    remote = host.get(SMOLLM_SPEC)
    child = host.pid
    pending = remote.submit(long_request(remote))
    host.close()
    with pytest.raises(EngineClosed):
        pending.outcome()
    with pytest.raises(EngineClosed):
        host.get(SMOLLM_SPEC)
    with pytest.raises(EngineClosed):
        remote.submit(long_request(remote))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child)  # told to close, it exits


def test_a_stuck_engine_process_holds_up_neither_warm_gets_nor_close(monkeypatch):
    monkeypatch.setattr(process, "CLOSE_WAIT_S", 1)
    host = engine_process()
    remote = host.get(SMOLLM_SPEC)
    os.kill(host.pid, signal.SIGSTOP)  # it reads nothing more: a big request fills the pipe
    huge = GenerationRequest(prompt_ids=list(range(1000, 2000)) * 400, max_new_tokens=1)
    outcomes = []
    sending = threading.Thread(target=lambda: outcomes.append(remote.submit(huge)))
    sending.start()
    sending.join(1)
    assert sending.is_alive()  # blocked on the full pipe
    started = time.monotonic()
    assert host.get(SMOLLM_SPEC) is remote
    host.close()
    assert time.monotonic() - started < 1
    sending.join(30)  # killed after CLOSE_WAIT_S, the pipe breaks and the submit returns
    assert not sending.is_alive()
    with pytest.raises(EngineClosed):
        outcomes[0].outcome()


def test_an_idle_engine_process_waits_for_a_job_on_its_way():
    """The worker's count of jobs it has taken and not yet submitted reaches the engine process:
    the first request waits for the second instead of decoding alone."""
    arriving = arrivals_counter()
    host = engine_process(arriving=arriving)
    try:
        remote = host.get(SMOLLM_SPEC)
        ids = remote.encode_chat(QUESTION)
        arriving.value = 1
        first = remote.submit(GenerationRequest(prompt_ids=ids, max_new_tokens=4))
        time.sleep(0.15)
        assert not first.wait(0)  # held for the one on its way
        arriving.value = 0
        second = remote.submit(GenerationRequest(prompt_ids=ids, max_new_tokens=4))
        assert first.outcome().text == second.outcome().text
        assert first.outcome().ttft_s >= 0.15
    finally:
        host.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a child that exited but was not reaped yet counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(("choice", "daemonic", "wanted"), [
    ("on", False, True), ("off", False, False), ("on", True, False)])
def test_the_engines_run_in_a_process_of_their_own_unless_told_or_unable(settings, monkeypatch, choice, daemonic,
                                                                         wanted):
    """A prefork pool's child is daemonic and may not start processes: its engines stay in it."""
    monkeypatch.setattr(embedded.multiprocessing, "current_process", lambda: SimpleNamespace(daemon=daemonic))
    settings.PLAYGROUND_ENGINE_PROCESS = choice
    assert embedded.engine_process_wanted() is wanted
