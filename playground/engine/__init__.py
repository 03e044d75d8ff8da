"""The inference engine: loads models once, batches concurrent requests, streams text.

Nothing here imports Django, so the engine can be benchmarked and tested on its own.
"""
from .batching import BatchingEngine, GenerationRequest, GenerationResult
from .registry import EngineRegistry, ModelLoadError
from .runtime import RuntimeSpec

__all__ = ["BatchingEngine", "EngineRegistry", "GenerationRequest", "GenerationResult",
           "ModelLoadError", "RuntimeSpec"]
