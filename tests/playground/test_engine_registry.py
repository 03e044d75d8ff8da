"""The engine registry with a stand-in loader: a slow load holds up only the callers of that model."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from playground.engine import EngineRegistry, ModelLoadError, RuntimeSpec
from playground.engine import registry as registry_module

FAST, SLOW = RuntimeSpec("local", "/fast"), RuntimeSpec("local", "/slow")


@pytest.fixture
def loads(monkeypatch):
    """Stand-ins for load_model and BatchingEngine; SLOW loads until `release` is set."""
    state = SimpleNamespace(calls=[], release=threading.Event(), slow_started=threading.Event(), fail=False)

    def load_model(spec, *, cache_dir, device=None):
        state.calls.append(spec)
        if spec == SLOW:
            state.slow_started.set()
            assert state.release.wait(10)
            if state.fail:
                raise ModelLoadError("no such model")
        return f"model:{spec.location}", "tokenizer"

    class Engine:
        def __init__(self, model, tokenizer, *, max_batch, incoming=None, prefill_chunk_tokens=None,
                     decode_threads=None):
            self.model, self.closed = model, False
            self.prefill_chunk_tokens, self.decode_threads = prefill_chunk_tokens, decode_threads

        def close(self, *, drain=False):
            self.closed = True

    monkeypatch.setattr(registry_module, "load_model", load_model)
    monkeypatch.setattr(registry_module, "BatchingEngine", Engine)
    return state


def test_a_loading_model_does_not_block_a_warm_one(loads, tmp_path):
    registry = EngineRegistry(cache_dir=tmp_path, max_models=2)
    warm = registry.get(FAST)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(registry.get, SLOW)
        assert loads.slow_started.wait(10)
        started = time.monotonic()
        assert registry.get(FAST) is warm
        assert time.monotonic() - started < 1
        loads.release.set()
        assert slow.result(10).model == "model:/slow"


def test_concurrent_gets_of_one_model_load_it_once(loads, tmp_path):
    registry = EngineRegistry(cache_dir=tmp_path, max_models=2)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(registry.get, SLOW) for _ in range(4)]
        assert loads.slow_started.wait(10)
        time.sleep(0.2)  # the other three are waiting for that load by now
        loads.release.set()
        engines = [f.result(10) for f in futures]
    assert loads.calls == [SLOW]
    assert all(e is engines[0] for e in engines)


def test_a_failed_load_reaches_every_waiter_and_is_retried_later(loads, tmp_path):
    registry = EngineRegistry(cache_dir=tmp_path, max_models=2)
    loads.fail = True
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(registry.get, SLOW) for _ in range(2)]
        assert loads.slow_started.wait(10)
        time.sleep(0.2)
        loads.release.set()
        for future in futures:
            with pytest.raises(ModelLoadError):
                future.result(10)
    assert loads.calls == [SLOW]
    loads.fail = False
    assert registry.get(SLOW).model == "model:/slow"
    assert loads.calls == [SLOW, SLOW]


def test_the_least_recently_used_model_is_evicted_and_closed(loads, tmp_path):
    loads.release.set()
    registry = EngineRegistry(cache_dir=tmp_path, max_models=1)
    first = registry.get(FAST)
    second = registry.get(SLOW)
    assert first.closed and not second.closed
    assert registry.get(SLOW) is second


def test_each_engine_gets_the_registrys_prefill_chunk(loads, tmp_path):
    registry = EngineRegistry(cache_dir=tmp_path, prefill_chunk_tokens=64)
    assert registry.get(FAST).prefill_chunk_tokens == 64


def test_each_engine_gets_the_registrys_decode_threads(loads, tmp_path):
    assert EngineRegistry(cache_dir=tmp_path, decode_threads=3).get(FAST).decode_threads == 3
    assert EngineRegistry(cache_dir=tmp_path).get(FAST).decode_threads is None  # each measures its own


def test_warm_gives_a_loaded_engine_and_loads_nothing(loads, tmp_path):
    registry = EngineRegistry(cache_dir=tmp_path, max_models=2)
    assert registry.warm(FAST) is None and loads.calls == []
    engine = registry.get(FAST)
    assert registry.warm(FAST) is engine and loads.calls == [FAST]
