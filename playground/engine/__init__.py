"""The inference engine: loads models once, batches concurrent requests, streams text.

Nothing here imports Django, so the engine can be benchmarked and tested on its own.
"""
from .batching import BatchingEngine, GenerationRequest, GenerationResult
from .registry import EngineRegistry, ModelLoadError
from .rows import GREEDY_BELOW, EngineClosed, GenerationError
from .runtime import RuntimeSpec

__all__ = ["GREEDY_BELOW", "BatchingEngine", "EngineClosed", "EngineRegistry", "GenerationError",
           "GenerationRequest", "GenerationResult", "ModelLoadError", "RuntimeSpec"]
