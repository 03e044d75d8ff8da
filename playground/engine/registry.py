"""A bounded set of warm engines per process, each loaded once, least recently used evicted."""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

from .batching import BatchingEngine
from .loading import load_model
from .rows import EngineClosed
from .runtime import ModelLoadError, RepoFetcher, RuntimeSpec

__all__ = ["EngineRegistry", "ModelLoadError"]


class EngineRegistry:
    def __init__(self, *, cache_dir: Path, max_models: int = 2, max_batch: int = 8,
                 device: str | None = None, fetch_repo: RepoFetcher | None = None,
                 incoming: Callable[[], int] | None = None, prefill_chunk_tokens: int | None = None):
        self.cache_dir = cache_dir
        self.incoming = incoming  # passed to each engine (see BatchingEngine)
        self.fetch_repo = fetch_repo
        self.max_models = max_models
        self.max_batch = max_batch
        self.prefill_chunk_tokens = prefill_chunk_tokens  # None: the engine's default for its device
        self.device = device
        self._engines: OrderedDict[RuntimeSpec, BatchingEngine] = OrderedDict()
        self._loading: dict[RuntimeSpec, Future[BatchingEngine]] = {}
        self._lock = threading.Lock()  # guards the two maps; never held while a model loads
        self._closed = False

    def get(self, spec: RuntimeSpec) -> BatchingEngine:
        """The warm engine for `spec`, loaded first if needed. A load holds up only the callers
        of that model: the first one loads it, the others share its engine (or its error)."""
        with self._lock:
            if self._closed:
                raise EngineClosed("This process is shutting down; it takes no new requests.")
            engine = self._engines.get(spec)
            if engine is not None:
                self._engines.move_to_end(spec)
                return engine
            elsewhere = self._loading.get(spec)
            if elsewhere is None:
                loading = self._loading[spec] = Future()
        if elsewhere is not None:
            return elsewhere.result()
        try:
            extra = {"fetch_repo": self.fetch_repo} if self.fetch_repo is not None else {}
            model, tokenizer = load_model(spec, cache_dir=self.cache_dir, device=self.device, **extra)
            engine = BatchingEngine(model, tokenizer, max_batch=self.max_batch, incoming=self.incoming,
                                    prefill_chunk_tokens=self.prefill_chunk_tokens)
        except BaseException as exc:  # the waiters get the error too; a later get tries again
            with self._lock:
                del self._loading[spec]
            loading.set_exception(exc)
            raise
        with self._lock:
            del self._loading[spec]
            closed_meanwhile = self._closed
            if not closed_meanwhile:
                self._engines[spec] = engine
            evicted = []
            while len(self._engines) > self.max_models:
                evicted.append(self._engines.popitem(last=False)[1])
        if closed_meanwhile:
            engine.close()
            error = EngineClosed("This process is shutting down; it takes no new requests.")
            loading.set_exception(error)
            raise error
        loading.set_result(engine)
        for old in evicted:
            old.close(drain=True)  # the requests it holds still finish
        return engine

    def warm(self, spec: RuntimeSpec) -> BatchingEngine | None:
        """The engine for `spec` if it is loaded, without loading it."""
        with self._lock:
            engine = self._engines.get(spec)
            if engine is not None:
                self._engines.move_to_end(spec)
            return engine

    def close(self) -> None:
        """Shut every engine down: what they hold fails with EngineClosed within a step, and
        later `get`s are refused. For a worker that has been told to stop."""
        with self._lock:
            self._closed = True
            engines, self._engines = list(self._engines.values()), OrderedDict()
        for engine in engines:
            engine.close()
