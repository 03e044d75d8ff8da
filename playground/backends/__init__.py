"""Inference backends: where a runtime's jobs run. `embedded` is the built-in batching engine in
the worker; `openai` is any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, Ollama,
`transformers serve`). The runner picks one per job from the model's runtime."""
from __future__ import annotations

from models_hub.models import Runtime

from .base import Backend, BackendError, Handle, JobInput, Outcome
from .embedded import Arrival, EmbeddedBackend, close_engines, engine_registry
from .openai import OpenAIBackend


def backend_for(runtime: Runtime) -> Backend:
    if runtime.backend == Runtime.Backend.OPENAI:
        return OpenAIBackend(base_url=runtime.base_url, served_model=runtime.served_model,
                             api_key_env=runtime.api_key_env)
    return EmbeddedBackend(runtime.spec())


__all__ = ["Arrival", "Backend", "BackendError", "Handle", "JobInput", "Outcome", "backend_for", "close_engines",
           "engine_registry"]
