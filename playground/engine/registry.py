"""A bounded set of warm engines per process, each loaded once, least recently used evicted."""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path
from typing import Callable, Generic, TypeVar

from .batching import BatchingEngine
from .loading import load_model
from .rows import EngineClosed
from .runtime import ModelLoadError, RepoFetcher, RuntimeSpec

__all__ = ["EngineRegistry", "ModelLoadError", "WarmSet"]


SHUTTING_DOWN = "This process is shutting down; it takes no new requests."
T = TypeVar("T")


class WarmSet(Generic[T]):
    """What is loaded, by spec: at most `max_models`, the least recently used retired. The first
    `get` of a spec loads it; its other callers wait for that load (or share its error), and a
    load holds up only the callers of that spec. After `close`, gets are refused."""

    def __init__(self, max_models: int, retire: Callable[[T], None]):
        self.max_models = max_models
        self.retire = retire
        self._items: OrderedDict[RuntimeSpec, T] = OrderedDict()
        self._loading: dict[RuntimeSpec, Future[T]] = {}
        self._lock = threading.Lock()  # guards the two maps; never held while a model loads
        self.closed = False

    def get(self, spec: RuntimeSpec, load: Callable[[], T]) -> T:
        with self._lock:
            if self.closed:
                raise EngineClosed(SHUTTING_DOWN)
            item = self._items.get(spec)
            if item is not None:
                self._items.move_to_end(spec)
                return item
            elsewhere = self._loading.get(spec)
            if elsewhere is None:
                loading = self._loading[spec] = Future()
        if elsewhere is not None:
            return elsewhere.result()
        try:
            item = load()
        except BaseException as exc:  # the waiters get the error too; a later get tries again
            with self._lock:
                del self._loading[spec]
            loading.set_exception(exc)
            raise
        with self._lock:
            del self._loading[spec]
            closed_meanwhile = self.closed
            if not closed_meanwhile:
                self._items[spec] = item
            retired = [item] if closed_meanwhile else []
            while len(self._items) > self.max_models:
                retired.append(self._items.popitem(last=False)[1])
        for old in retired:
            self.retire(old)
        if closed_meanwhile:
            error = EngineClosed(SHUTTING_DOWN)
            loading.set_exception(error)
            raise error
        loading.set_result(item)
        return item

    def warm(self, spec: RuntimeSpec) -> T | None:
        """What is loaded for `spec`, without loading it."""
        with self._lock:
            item = self._items.get(spec)
            if item is not None:
                self._items.move_to_end(spec)
            return item

    def close(self) -> list[T]:
        """Refuse later gets; what was loaded, for the caller to shut down."""
        with self._lock:
            self.closed = True
            items, self._items = list(self._items.values()), OrderedDict()
        return items


class EngineRegistry:
    def __init__(self, *, cache_dir: Path, max_models: int = 2, max_batch: int = 8,
                 device: str | None = None, fetch_repo: RepoFetcher | None = None,
                 incoming: Callable[[], int] | None = None, prefill_chunk_tokens: int | None = None,
                 decode_threads: int | None = None):
        self.cache_dir = cache_dir
        self.incoming = incoming  # passed to each engine (see BatchingEngine)
        self.fetch_repo = fetch_repo
        self.max_batch = max_batch
        self.prefill_chunk_tokens = prefill_chunk_tokens  # None: the engine's default for its device
        self.decode_threads = decode_threads  # None: each engine measures its own
        self.device = device
        # An evicted engine finishes the requests it holds (drains) before it stops.
        self._engines: WarmSet[BatchingEngine] = WarmSet(max_models, retire=lambda old: old.close(drain=True))

    def get(self, spec: RuntimeSpec) -> BatchingEngine:
        """The warm engine for `spec`, loaded first if needed (see WarmSet)."""
        return self._engines.get(spec, lambda: self._load(spec))

    def _load(self, spec: RuntimeSpec) -> BatchingEngine:
        extra = {"fetch_repo": self.fetch_repo} if self.fetch_repo is not None else {}
        model, tokenizer = load_model(spec, cache_dir=self.cache_dir, device=self.device, **extra)
        return BatchingEngine(model, tokenizer, max_batch=self.max_batch, incoming=self.incoming,
                              prefill_chunk_tokens=self.prefill_chunk_tokens, decode_threads=self.decode_threads)

    def warm(self, spec: RuntimeSpec) -> BatchingEngine | None:
        """The engine for `spec` if it is loaded, without loading it."""
        return self._engines.warm(spec)

    def close(self) -> None:
        """Shut every engine down: what they hold fails with EngineClosed within a step, and
        later `get`s are refused. For a worker that has been told to stop."""
        for engine in self._engines.close():
            engine.close()
