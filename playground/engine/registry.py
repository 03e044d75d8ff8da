"""A bounded set of warm engines per process, each loaded once, least recently used evicted."""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from .batching import BatchingEngine
from .loading import load_model
from .runtime import ModelLoadError, RuntimeSpec

__all__ = ["EngineRegistry", "ModelLoadError"]


class EngineRegistry:
    def __init__(self, *, cache_dir: Path, max_models: int = 2, max_batch: int = 8,
                 device: str | None = None):
        self.cache_dir = cache_dir
        self.max_models = max_models
        self.max_batch = max_batch
        self.device = device
        self._engines: OrderedDict[RuntimeSpec, BatchingEngine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, spec: RuntimeSpec) -> BatchingEngine:
        with self._lock:  # one load at a time; concurrent jobs for a model wait for that load
            engine = self._engines.get(spec)
            if engine is None:
                model, tokenizer = load_model(spec, cache_dir=self.cache_dir, device=self.device)
                engine = BatchingEngine(model, tokenizer, max_batch=self.max_batch)
                self._engines[spec] = engine
                while len(self._engines) > self.max_models:
                    _spec, evicted = self._engines.popitem(last=False)
                    evicted.close()
            self._engines.move_to_end(spec)
            return engine
