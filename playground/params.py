"""Generation parameters: one set of defaults for every door (page, jobs API, /v1/), and which
parameters a runtime can honour. Plain functions over a Runtime row; no I/O."""
from __future__ import annotations

from models_hub.models import Runtime

# Where neither the request nor the runtime says otherwise. A runtime's default_params (from the
# model's generation config, or set by staff) override these; a request overrides both.
PLATFORM_DEFAULTS = {"max_new_tokens": 256, "temperature": 0.7, "top_p": 1.0, "top_k": 0,
                     "repetition_penalty": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0, "min_new_tokens": 0}
ALL_PARAMS = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "presence_penalty",
              "frequency_penalty", "seed", "stop", "min_new_tokens", "logprobs", "top_logprobs", "echo")
# Our names -> the names of OpenAI's API; OpenAI's own every OpenAI-compatible server takes (vLLM,
# SGLang, TGI, llama.cpp, Ollama), the rest only where the runtime lists them in
# `upstream_params` (vLLM, SGLang take all three).
OPENAI_NAMES = {"max_new_tokens": "max_tokens", "temperature": "temperature", "top_p": "top_p",
                "seed": "seed", "stop": "stop", "presence_penalty": "presence_penalty",
                "frequency_penalty": "frequency_penalty", "top_k": "top_k",
                "repetition_penalty": "repetition_penalty", "min_new_tokens": "min_tokens"}
OPENAI_CORE = ("max_new_tokens", "temperature", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty")
# What a job asks beyond sampling: log-probabilities (of the output's tokens, with `top_logprobs`
# alternatives each) and `echo` (the prompt back, with its tokens' log-probabilities when
# `logprobs` is set). An upstream server honours them where the runtime's `upstream_params` lists
# the feature: "logprobs" (vLLM, SGLang, llama.cpp) and "echo" (vLLM's legacy completions).
UPSTREAM_FEATURES = {"logprobs": "logprobs", "top_logprobs": "logprobs", "echo": "echo"}
MAX_TOP_LOGPROBS = 20


def supported_params(runtime: Runtime) -> tuple[str, ...]:
    if runtime.backend == Runtime.Backend.EMBEDDED:
        return ALL_PARAMS
    extras = set(runtime.upstream_params or [])
    names = {**OPENAI_NAMES, **UPSTREAM_FEATURES}
    return tuple(name for name in ALL_PARAMS if name in OPENAI_CORE or names[name] in extras)


def unsupported_params(runtime: Runtime, requested: dict) -> list[str]:
    supported = supported_params(runtime)
    return [name for name, value in requested.items()  # logprobs=false asks for nothing to refuse
            if name not in supported and not (name in UPSTREAM_FEATURES and not value)]


def defaults(runtime: Runtime) -> dict:
    """The values a job starts from on this runtime (what the playground page shows)."""
    supported = supported_params(runtime)
    merged = {**PLATFORM_DEFAULTS, **(runtime.default_params or {})}
    merged["max_new_tokens"] = min(int(merged["max_new_tokens"]), runtime.max_new_tokens)
    return {name: value for name, value in merged.items() if name in supported}


def effective_params(runtime: Runtime, requested: dict) -> dict:
    """What a job runs with: the runtime's defaults, then what the request set."""
    return {**defaults(runtime), **requested}
