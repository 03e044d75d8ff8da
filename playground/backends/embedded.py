"""The built-in engine: models load once per worker process, stay warm, and concurrent jobs for
the same model decode together (playground/engine). The default for `make run` and CI."""
from __future__ import annotations

import logging
import multiprocessing
import threading
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.utils.translation import gettext as _

from models_hub.repos.materialise import fetch_repository

from ..engine import EngineClosed, EngineRegistry, GenerationRequest, RuntimeSpec
from ..engine.process import EngineProcess, arrivals_counter
from .base import Backend, BackendError, Handle, JobInput, Outcome, check_logprobs

log = logging.getLogger(__name__)
_registry: EngineRegistry | EngineProcess | None = None
_registry_lock = threading.Lock()
# Jobs this process has taken from its queues and not yet submitted to an engine: shared memory,
# which an engine process reads too.
_arriving = arrivals_counter()
_arriving_lock = threading.Lock()


class Arrival:
    """A job on its way to an engine, from the moment a worker takes it from its queue (claiming
    it, preparing its input) until `done()`, called once its request is submitted (or it will not
    be). While any job is on its way, an idle engine waits for it before its first step, so a burst
    of jobs that reached the worker together starts as one batch (see BatchingEngine)."""

    def __init__(self):
        with _arriving_lock:
            _arriving.value += 1
        self._done = False

    def done(self) -> None:
        with _arriving_lock:
            if not self._done:
                self._done = True
                _arriving.value -= 1

    def __enter__(self) -> "Arrival":
        return self

    def __exit__(self, *exc) -> None:
        self.done()


def jobs_arriving() -> int:
    return _arriving.value


def engine_process_wanted() -> bool:
    """PLAYGROUND_ENGINE_PROCESS, unless this process may not have children: a prefork pool's
    child is daemonic (inference workers use `--pool threads`; see docs/operations.md)."""
    if settings.PLAYGROUND_ENGINE_PROCESS != "on":
        return False
    if multiprocessing.current_process().daemon:
        log.warning("a daemonic process cannot start an engine process: the engines run in this one")
        return False
    return True


def engine_registry() -> EngineRegistry | EngineProcess:
    """One registry per worker process: models load once and stay warm across jobs, in this
    process or in an engine process of its own (playground/engine/process.py)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            options = dict(cache_dir=Path(settings.MODEL_CACHE_DIR), max_models=settings.PLAYGROUND_WARM_MODELS,
                           max_batch=settings.PLAYGROUND_MAX_BATCH, fetch_repo=fetch_repository,
                           prefill_chunk_tokens=settings.PLAYGROUND_PREFILL_CHUNK_TOKENS,
                           decode_threads=settings.PLAYGROUND_DECODE_THREADS)
            _registry = (EngineProcess(arriving=_arriving, **options) if engine_process_wanted()
                         else EngineRegistry(incoming=jobs_arriving, **options))
        return _registry


def close_engines() -> None:
    """This process is stopping: the engines fail what they hold within a step."""
    with _registry_lock:
        registry = _registry
    if registry is not None:
        registry.close()


class _EngineHandle(Handle):
    def __init__(self, pending, prompt_text: str | None = None):
        super().__init__()
        self._pending = pending
        self._prompt_text = prompt_text

    def wait(self, timeout: float) -> bool:
        return self._pending.wait(timeout)

    def result(self) -> Outcome:
        result = self._pending.outcome()
        logprobs = None
        if result.logprobs is not None:
            logprobs = {"content": result.logprobs, "prompt": result.prompt_logprobs}
        return Outcome(text=result.text, finish_reason=result.finish_reason, prompt_tokens=result.prompt_tokens,
                       completion_tokens=result.completion_tokens, ttft_s=result.ttft_s,
                       tokens_per_s=result.tokens_per_s, logprobs=logprobs, prompt_text=self._prompt_text)


class EmbeddedBackend(Backend):
    def __init__(self, spec: dict):
        self.spec = RuntimeSpec.from_dict(spec)

    def start(self, job: JobInput, *, on_delta: Callable[[str], None]) -> Handle:
        engine = engine_registry().get(self.spec)  # ModelLoadError and EngineClosed pass through
        if job.prompt_ids:
            prompt_ids = list(job.prompt_ids)
            if not all(0 <= token < engine.vocab_size for token in prompt_ids):
                raise BackendError(_("The prompt has token ids outside this model's vocabulary (0 to %(n)d).")
                                   % {"n": engine.vocab_size - 1}, code="invalid_prompt")
        elif job.mode == "chat":
            prompt_ids = engine.encode_chat(job.messages)
        else:
            prompt_ids = engine.encode_text(job.prompt)
        params = job.params
        max_new = int(params["max_new_tokens"])
        if len(prompt_ids) + max_new > job.context_length:
            raise BackendError(_("The prompt has %(n)d tokens; with %(m)d new tokens it exceeds the "
                                 "model's context of %(c)d.") % {"n": len(prompt_ids), "m": max_new,
                                                               "c": job.context_length},
                               code="context_length_exceeded")
        logprobs, echo = bool(params.get("logprobs")), bool(params.get("logprobs") and params.get("echo"))
        if logprobs:
            check_logprobs(job, (max_new + (len(prompt_ids) if echo else 0)) * (1 + int(params.get("top_logprobs") or 0)))
        handle_cancelled = threading.Event()
        pending = engine.submit(GenerationRequest(
            prompt_ids=prompt_ids, max_new_tokens=max_new, temperature=float(params["temperature"]),
            top_p=float(params["top_p"]), top_k=int(params["top_k"]),
            repetition_penalty=float(params["repetition_penalty"]), seed=params.get("seed"),
            presence_penalty=float(params.get("presence_penalty") or 0),
            frequency_penalty=float(params.get("frequency_penalty") or 0),
            stop=list(params.get("stop") or []), min_new_tokens=int(params.get("min_new_tokens") or 0),
            on_delta=on_delta, should_cancel=handle_cancelled.is_set, deadline=job.deadline,
            logprobs=logprobs, top_logprobs=int(params.get("top_logprobs") or 0), prompt_logprobs=echo,
        ))
        prompt_text = None
        if job.prompt_ids:  # stored as the job's prompt, where PostgreSQL takes no NUL
            prompt_text = engine.tokenizer.decode(prompt_ids, skip_special_tokens=False).replace("\x00", "\ufffd")
        handle = _EngineHandle(pending, prompt_text)
        handle.cancelled = handle_cancelled
        return handle


__all__ = ["Arrival", "EmbeddedBackend", "EngineClosed", "close_engines", "engine_registry"]
