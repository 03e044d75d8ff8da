"""What the worker asks of an inference backend: start a generation and stream its text; cancel
it; say how it ended. Nothing here knows about Django rows: the runner passes plain data."""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

from django.utils.translation import gettext as _


class BackendError(RuntimeError):
    """The generation could not run or went wrong; the message says why, in words for members.
    `code` is a GenerationJob.ErrorCode where the request itself was at fault, else blank."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class JobInput:
    mode: str  # "chat" | "completion"
    messages: list[dict]
    prompt: str
    params: dict  # the job's effective parameters (see playground.params)
    context_length: int
    deadline: float  # a time.monotonic() instant
    prompt_ids: list[int] | None = None  # completion mode: the prompt as token ids, instead of `prompt`
    # The most log-probabilities the job may return, alternatives counted: its share of its
    # request's PLAYGROUND_MAX_LOGPROBS.
    logprobs_max: int = 0


def check_logprobs(job: JobInput, values: int) -> None:
    """Refuse a job that asks for more log-probabilities than its share. Each is a JSON object
    kept with the job, and its request's answer holds all its jobs' at once: a long prompt echoed
    with 20 alternatives each, in 32 prompts, is millions of objects for the web process."""
    if values > job.logprobs_max:
        raise BackendError(_("This asks for %(n)d log-probabilities (each token and its alternatives), more than "
                             "the %(max)d this prompt may have (a request's are shared among its prompts). Ask for "
                             "fewer alternatives or tokens, or send fewer prompts at once.")
                           % {"n": values, "max": job.logprobs_max}, code="invalid_prompt")


@dataclass
class Outcome:
    text: str
    finish_reason: str  # "stop" | "length" | "cancelled" | "timeout"
    prompt_tokens: int | None
    completion_tokens: int | None
    ttft_s: float | None
    tokens_per_s: float | None
    # With params.logprobs: {"content": [...], "prompt": [...] | None} (see GenerationJob.logprobs).
    logprobs: dict | None = None
    prompt_text: str | None = None  # the text of a prompt sent as token ids


@dataclass
class Handle:
    """A running generation: wait for it, take its outcome (or its error), or cancel it."""

    done: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    error: BaseException | None = None
    on_cancel: Callable[[], None] | None = None

    def wait(self, timeout: float) -> bool:
        return self.done.wait(timeout)

    def result(self) -> Outcome:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.outcome

    def cancel(self) -> None:
        if not self.cancelled.is_set():
            self.cancelled.set()
            if self.on_cancel is not None:
                self.on_cancel()

    def finish(self, outcome: Outcome | None = None, error: BaseException | None = None) -> None:
        self.outcome, self.error = outcome, error
        self.done.set()


class Backend(ABC):
    @abstractmethod
    def start(self, job: JobInput, *, on_delta: Callable[[str], None]) -> Handle:
        """Begin generating; `on_delta` gets each new piece of text (from any thread, and must
        not block); the handle's `done` is set once it has ended."""

    def close(self) -> None:
        """This worker is stopping: what runs fails with EngineClosed (embedded) or is cancelled."""
