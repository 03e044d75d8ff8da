"""One request's life: its settings, its decoding state inside a batch, and its outcome."""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .logprobs import TokenLogprob, TokenTexts
from .streaming import TextStreamer

# Temperatures below this decode greedily: dividing logits by them overflows float32 to inf/NaN.
GREEDY_BELOW = 1e-4


class EngineClosed(RuntimeError):
    """The engine was closed: it takes no new requests, and ended this one before it finished."""


class GenerationError(RuntimeError):
    """This request could not go on (e.g. the model gave no finite scores); the others in its batch do."""


@dataclass
class GenerationRequest:
    prompt_ids: list[int]
    max_new_tokens: int = 128
    temperature: float = 0.0  # below GREEDY_BELOW means greedy
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    # OpenAI's: from each token's score, `presence_penalty` once if the output holds it already and
    # `frequency_penalty` times how often it does (the prompt's tokens do not count, as in vLLM).
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    min_new_tokens: int = 0
    on_delta: Callable[[str], None] | None = None
    should_cancel: Callable[[], bool] | None = None
    deadline: float | None = None  # a time.monotonic() instant; past it the row ends as "timeout"
    logprobs: bool = False  # report each picked token's log-probability ...
    top_logprobs: int = 0  # ... with this many best alternatives per step
    prompt_logprobs: bool = False  # report the prompt's own tokens' log-probabilities (echo)
    # Score these possible next tokens after the prompt, from the one pass over it: how a
    # multiple-choice question whose answers are one token each is scored (lm-eval's `hf` model
    # does the same with its one-token logits cache).
    candidates: list[int] = field(default_factory=list)
    # Called once with the request's Pending when it has ended (with its result or its error), on
    # whichever thread ended it: how an engine in another process reports back without a waiter.
    on_end: Callable[["Pending"], None] | None = None

    @property
    def greedy(self) -> bool:
        return not self.temperature >= GREEDY_BELOW  # a NaN temperature is greedy too


@dataclass
class GenerationResult:
    text: str
    finish_reason: str  # "stop" | "length" | "cancelled" | "timeout"
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    total_s: float
    # With `logprobs`: one entry per picked token (the end-of-sequence token included, as the
    # last), in OpenAI's chat shape; with `prompt_logprobs`, one per prompt token, the first
    # with logprob None.
    logprobs: list[dict] | None = None
    prompt_logprobs: list[dict] | None = None
    # With `candidates`: for each, (its log-probability after the prompt, whether it is the most
    # likely next token).
    candidate_scores: list[tuple[float, bool]] | None = None

    @property
    def tokens_per_s(self) -> float:
        decode_time = self.total_s - self.ttft_s
        if self.completion_tokens <= 1 or decode_time <= 0:
            return self.completion_tokens / self.total_s if self.total_s > 0 else 0.0
        return (self.completion_tokens - 1) / decode_time


class Pending:
    """A submitted request: wait on it, then take its result (or its error)."""

    def __init__(self, request: GenerationRequest):
        self.request = request
        self.submitted = time.perf_counter()
        self.done = threading.Event()
        self.result: GenerationResult | None = None
        self.error: BaseException | None = None
        self._ending = threading.Lock()  # a close() and the scheduler may end it at once

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def outcome(self) -> GenerationResult:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result

    def fail(self, error: BaseException) -> None:
        """End with `error`, unless already done."""
        self._end(error)

    def end(self) -> None:
        """End with `result` (set before), unless already done."""
        self._end(None)

    def _end(self, error: BaseException | None) -> None:
        with self._ending:
            if self.done.is_set():
                return
            if error is not None:
                self.error = error
            self.done.set()
        if self.request.on_end is not None:
            self.request.on_end(self)


class Row:
    """Decoding state of one request inside a batch."""

    def __init__(self, pending: Pending, tokenizer, eos_ids: set[int], device, texts: TokenTexts | None = None):
        import torch

        self.pending = pending
        self.request = request = pending.request
        self.generated: list[int] = []
        self.tokenizer = tokenizer
        self.texts = texts
        self.picked: list[TokenLogprob] = []  # with request.logprobs
        self.prompt_items: list[TokenLogprob] | None = None  # with request.prompt_logprobs
        self.candidate_scores: list[tuple[float, bool]] | None = None  # with request.candidates
        self.seen = torch.tensor(sorted(set(request.prompt_ids)), dtype=torch.long, device=device)
        self.streamer = TextStreamer(tokenizer, request.stop)
        self.eos_ids = eos_ids
        self.first_token_at: float | None = None
        self.unsent = ""  # text decoded and not yet handed to on_delta (see `send`)
        self.finish_reason: str | None = None  # set once done; "error" when it failed
        self.generator = None
        if not request.greedy:
            self.generator = torch.Generator(device=device)
            # Not torch.seed(): that would reseed the process-wide generator as a side effect.
            seed = request.seed if request.seed is not None else secrets.randbits(63)
            self.generator.manual_seed(int(seed))

    def score_candidates(self, logits) -> None:
        """Each candidate's log-probability as the next token, from the raw float32 scores after
        the prompt, and whether it is the most likely one."""
        import torch

        vocab = logits.shape[-1]
        # Checked before indexing: on CUDA an index out of range breaks the whole context.
        if not all(0 <= token < vocab for token in self.request.candidates):
            raise ValueError(f"A candidate token id is outside the vocabulary (0 to {vocab - 1}).")
        logprobs = torch.log_softmax(logits, dim=-1)
        best = int(logprobs.argmax())
        values = logprobs[torch.tensor(self.request.candidates, dtype=torch.long, device=logprobs.device)].tolist()
        self.candidate_scores = [(value, token == best) for token, value in zip(self.request.candidates, values)]

    def timed_out(self) -> bool:
        deadline = self.request.deadline
        return deadline is not None and time.monotonic() >= deadline

    def next_token(self, logits) -> int:
        """This row's next token from its float32 logits, which it may change in place."""
        import torch

        req = self.request
        if req.repetition_penalty != 1.0 and self.seen.numel():
            picked = logits[self.seen]
            logits[self.seen] = torch.where(picked < 0, picked * req.repetition_penalty,
                                            picked / req.repetition_penalty)
        if (req.presence_penalty or req.frequency_penalty) and self.generated:
            counts = torch.bincount(torch.tensor(self.generated, device=logits.device), minlength=logits.shape[-1])
            counts = counts[:logits.shape[-1]].to(logits.dtype)
            logits -= req.frequency_penalty * counts + req.presence_penalty * (counts > 0).to(logits.dtype)
        if len(self.generated) < req.min_new_tokens:
            for eos in self.eos_ids:
                logits[eos] = float("-inf")
        logits = self._finite(logits)
        if req.greedy:
            return int(torch.argmax(logits))
        # Shifting the best score to 0 first keeps the division by a small temperature finite.
        logits = (logits - logits.max()) / req.temperature
        if req.top_k > 0:
            kth = torch.topk(logits, min(req.top_k, logits.shape[-1])).values[-1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if req.top_p < 1.0:
            sorted_logits, order = torch.sort(logits, descending=True)
            probs = torch.softmax(sorted_logits, dim=-1)
            drop = probs.cumsum(-1) - probs > req.top_p
            drop[0] = False  # the most likely token always stays
            logits = logits.index_fill(0, order[drop], float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self.generator))

    def _finite(self, logits):
        """NaN scores become -inf and +inf the largest float; no finite score left fails the row."""
        import torch

        logits = torch.nan_to_num(logits, nan=float("-inf"), posinf=torch.finfo(logits.dtype).max,
                                  neginf=float("-inf"))
        if not bool(torch.isfinite(logits).any()):
            raise GenerationError(f"The model gave no finite scores (NaN or infinite logits) for token "
                                  f"{len(self.generated) + 1}; the request was stopped.")
        return logits

    def accept(self, token: int, now: float) -> None:
        import torch

        if self.first_token_at is None:
            self.first_token_at = now
        req = self.request
        if token in self.eos_ids and len(self.generated) >= req.min_new_tokens:
            self.finish_reason = "stop"
            return
        self.generated.append(token)
        if req.repetition_penalty != 1.0:
            self.seen = torch.unique(torch.cat([self.seen, self.seen.new_tensor([token])]))
        delta, hit_stop = self.streamer.push(self.generated)
        self.unsent += delta
        if hit_stop:
            self.finish_reason = "stop"
        elif len(self.generated) >= req.max_new_tokens:
            self.finish_reason = "length"
        else:
            self.check_cancel_and_deadline()

    def check_cancel_and_deadline(self) -> None:
        """End the row as cancelled when its request asks to, or as timed out past its deadline."""
        if self.request.should_cancel and self.request.should_cancel():
            self.finish_reason = "cancelled"
        elif self.timed_out():
            self.finish_reason = "timeout"

    def send(self) -> None:
        """Hand the text decoded since the last call to the request's on_delta."""
        text, self.unsent = self.unsent, ""
        if text and self.request.on_delta:
            self.request.on_delta(text)

    def finish(self, now: float) -> None:
        self.unsent += self.streamer.flush(self.generated)
        self.send()
        p = self.pending
        logprobs = prompt_logprobs = None
        texts = self.texts or TokenTexts(self.tokenizer)
        if self.request.logprobs:
            logprobs = [texts.entry(item) for item in self.picked[:self._tokens_in_text()]]
        if self.request.prompt_logprobs and self.prompt_items is not None:
            prompt_logprobs = [texts.entry(item) for item in self.prompt_items]
        p.result = GenerationResult(
            text=self.streamer.text,
            finish_reason=self.finish_reason or "length",
            prompt_tokens=len(self.request.prompt_ids),
            completion_tokens=len(self.generated),
            ttft_s=(self.first_token_at or now) - p.submitted,
            total_s=now - p.submitted,
            logprobs=logprobs,
            prompt_logprobs=prompt_logprobs,
            candidate_scores=self.candidate_scores,
        )
        p.end()

    def _tokens_in_text(self) -> int:
        """How many picked tokens the output holds: all of them (and the end-of-sequence token),
        unless a stop string cut the text; then those up to the one where the stop string begins."""
        if self.finish_reason != "stop" or len(self.picked) > len(self.generated):
            return len(self.picked)  # ended by the end-of-sequence token, or not by a stop
        text = self.streamer.text

        def decoded(n: int) -> int:
            return len(self.tokenizer.decode(self.generated[:n], skip_special_tokens=True))

        keep = len(self.generated)
        if decoded(keep) <= len(text):
            return len(self.picked)
        while keep > 0 and decoded(keep - 1) >= len(text):
            keep -= 1
        return keep

    def fail(self, error: BaseException) -> None:
        self.finish_reason = "error"
        self.pending.fail(error)
