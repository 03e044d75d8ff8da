"""Continuous batching: concurrent requests decode together, each with its own settings.

One scheduler thread per model owns the model. It takes up to `max_batch` waiting requests,
left-pads them into one batch, and decodes step by step with a shared KV cache. Between steps,
requests that arrived meanwhile are prefilled (a long prompt a chunk per step, so the decoding rows
are not held up by it: prefill.py) and merged into the running batch, and rows that finish (or are
cancelled, or time out) leave it, so the batch stays full while work is waiting.
Each row has its own temperature, top-p, top-k, repetition penalty, seed, stop strings, token limit
and deadline; under greedy decoding a row produces the same text as it would alone. A row may ask
for the log-probabilities of the tokens it picks, of its prompt's tokens (see logprobs.py), and of
candidate next tokens. A row whose own
logits or callbacks fail ends with that error alone; a failure of the batch (the model's forward
pass) ends every request in it.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Callable

from . import threads
from .batch import Batch
from .logprobs import TokenTexts, pick
from .prefill import Prefill, default_chunk_tokens
from .prompts import PromptEncoding
from .rows import EngineClosed, GenerationRequest, GenerationResult, Pending, Row

if TYPE_CHECKING:
    import torch

__all__ = ["BatchingEngine", "EngineClosed", "GenerationRequest", "GenerationResult", "Pending"]
log = logging.getLogger(__name__)


class BatchingEngine(PromptEncoding):
    """`incoming`, if given, says how many requests are on their way to this process's engines
    (jobs a worker has taken from its queue and not yet submitted): an idle engine that gets a
    request waits for them, up to `max_gather_s`, so that a burst of jobs starts as one batch
    with one prefill instead of a lone row decoding while the rest trickle in. Without requests on
    their way it waits `gather_window_s` after the latest arrival, so a lone request starts at once.

    Prompts that arrive while rows decode run `prefill_chunk_tokens` (rows × positions) at a time,
    between decode steps (prefill.py; 0: in one pass); by default 512 on a CPU, 2048 on a GPU.

    Prefills use every intra-op thread torch had when the engine was built; decode steps use
    `decode_threads` on a CPU, by default measured as the fewest that decode about as fast as
    the most (threads.py)."""

    def __init__(self, model, tokenizer, *, max_batch: int = 8, gather_window_s: float = 0.02,
                 max_gather_s: float = 0.3, incoming: Callable[[], int] | None = None,
                 decode_threads: int | None = None, prefill_chunk_tokens: int | None = None):
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.gather_window_s = gather_window_s
        self.max_gather_s = max_gather_s
        self.incoming = incoming
        self.device = next(model.parameters()).device
        self.prefill_chunk_tokens = (default_chunk_tokens(self.device.type) if prefill_chunk_tokens is None
                                     else prefill_chunk_tokens)
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if tokenizer.eos_token_id is not None:
            eos_ids.add(tokenizer.eos_token_id)
        self.eos_ids = eos_ids
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(eos_ids)
        self.texts = TokenTexts(tokenizer)  # token ids' own texts, for log-probabilities
        self.prefill_threads = torch.get_num_threads()
        # A decode step's seconds at each thread count tried (empty when none was measured).
        self.decode_step_seconds: dict[int, float] = {}
        self.decode_threads = self._decode_threads(decode_threads)
        self._threads_now: int | None = None  # the scheduler thread's count (set per phase)
        # Observed, for tests and benchmarks; bounded, as a worker runs for weeks.
        self.batch_sizes: deque[int] = deque(maxlen=4096)
        # (rows in the forward pass, seconds) per decode step: the rows' sampling plus one forward
        # pass (on CUDA the forward is asynchronous, so a step also waits for the previous one).
        # Bounded, so it costs nothing to leave on; a reader may popleft() what it has seen.
        self.step_times: deque[tuple[int, float]] = deque(maxlen=4096)
        self._queue: queue.Queue[Pending | None] = queue.Queue()  # None wakes the scheduler to exit
        self._lock = threading.Lock()  # orders submit against close: nothing is queued after close
        self._closed = False  # no new requests
        self._abort = False  # end the requests still queued or running
        self._thread = threading.Thread(target=self._loop, name="batching-engine", daemon=True)
        self._thread.start()

    # --- public -------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def vocab_size(self) -> int:
        """Token ids at or past this are not the model's: a prompt of ids must stay below it."""
        return self.model.get_input_embeddings().num_embeddings

    def submit(self, request: GenerationRequest) -> Pending:
        """Queue a request for the next batch. Its callbacks run on the scheduler thread, so they
        should be cheap (put into a queue, read a flag). Raises EngineClosed after `close`."""
        pending = Pending(request)
        with self._lock:
            if self._closed:
                raise EngineClosed("The engine is closed; it takes no new requests.")
            self._queue.put(pending)
        return pending

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """Blocks the calling thread until its request is done; the scheduler does the work."""
        return self.submit(request).outcome()

    def close(self, *, drain: bool = False) -> None:
        """Take no more requests and let the scheduler thread exit.

        Requests still queued fail at once with EngineClosed, and running ones at their next step,
        so a worker that shuts down gets its jobs back within one step. With `drain`, queued and
        running requests finish first (the registry evicts a model this way).
        """
        with self._lock:
            self._closed = True
            self._abort = self._abort or not drain
        if self._abort:
            while True:
                try:
                    pending = self._queue.get_nowait()
                except queue.Empty:
                    break
                if pending is not None:
                    pending.fail(EngineClosed("The engine was closed before this request started."))
        self._queue.put(None)

    # --- threads ------------------------------------------------------------------------------
    def _decode_threads(self, pinned: int | None) -> int:
        """On a CPU, `pinned` (no more than the prefills use) or else the fewest threads measured
        to decode about as fast as the most; elsewhere torch's threads stay as they are."""
        if self.device.type != "cpu" or self.prefill_threads <= 1:
            return self.prefill_threads
        if pinned is not None:
            return min(pinned, self.prefill_threads)
        try:
            self.decode_step_seconds = threads.decode_step_times(
                self.model, rows=self.max_batch, token_id=self.pad_id, counts=threads.candidates(self.prefill_threads))
        except Exception:  # a model this probe cannot drive still serves, on every thread
            log.warning("could not time decode steps; decoding on %d threads", self.prefill_threads, exc_info=True)
            return self.prefill_threads
        chosen = threads.fewest_within(self.decode_step_seconds)
        log.info("decoding on %d of %d threads (a step of %d rows: %s)", chosen, self.prefill_threads,
                 self.max_batch, threads.as_text(self.decode_step_seconds))
        return chosen

    def _use_threads(self, n: int) -> None:
        """The scheduler thread's intra-op threads for what it runs next."""
        import torch

        if n != self._threads_now:
            torch.set_num_threads(n)
            self._threads_now = n

    # --- scheduler ----------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            self._run(self._gather(first))
            self._use_threads(self.prefill_threads)  # idle: torch's default for threads that start later

    def _gather(self, first: Pending) -> list[Pending]:
        """The first request and those that follow it closely (see the class's docstring)."""
        waiting = [first]
        started = last = time.perf_counter()
        while len(waiting) < self.max_batch:
            now = time.perf_counter()
            until = started + self.max_gather_s
            if self.incoming is None or self.incoming() <= 0:
                until = min(until, last + self.gather_window_s)
            if now >= until:
                break
            try:  # in short waits, so that the count of requests on their way is read again
                item = self._queue.get(timeout=min(until - now, self.gather_window_s / 2))
            except queue.Empty:
                continue
            if item is None:
                self._queue.put(None)
                break
            waiting.append(item)
            last = time.perf_counter()
        return waiting

    def _take_waiting(self, limit: int) -> list[Pending]:
        """Requests already queued, without waiting (at most `limit`)."""
        taken: list[Pending] = []
        while len(taken) < limit:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:  # closing: leave the sentinel for the loop
                self._queue.put(None)
                break
            taken.append(item)
        return taken

    def _run(self, waiting: list[Pending]) -> None:
        """Decode until every row is done, admitting newly queued requests between steps: their
        prompts run in one pass while nothing decodes, else a chunk between two steps."""
        import torch

        batch: Batch | None = None
        joining: Prefill | None = None
        try:
            with torch.inference_mode():
                while batch is not None or joining is not None or waiting:
                    if self._abort:
                        raise EngineClosed("The engine was closed before this request finished.")
                    if joining is None and waiting:
                        joining, waiting = self._begin(waiting), []
                    if joining is not None:
                        batch, joining = self._advance(batch, joining)
                    if batch is not None:
                        batch = self._step(batch)
                    if joining is None:
                        waiting = self._take_waiting(self.max_batch - (len(batch.rows) if batch else 0))
        except BaseException as exc:  # a failed batch fails every request it holds, not the engine
            held = [row.pending for part in (batch, joining) if part is not None for row in part.rows]
            for pending in waiting + held:
                pending.fail(exc)

    def _begin(self, waiting: list[Pending]) -> Prefill | None:
        """The waiting requests' prefill, not yet run. Requests already past their deadline end at
        once, without running the model; None when none is left. If their rows cannot be built
        (a prompt the model cannot take), only they fail."""
        try:
            rows = []
            for pending in waiting:
                row = Row(pending, self.tokenizer, self.eos_ids, self.device, self.texts)
                if row.timed_out():
                    row.finish_reason = "timeout"
                    self._finish(row)
                else:
                    rows.append(row)
            return Prefill(rows, pad_id=self.pad_id, device=self.device) if rows else None
        except Exception as exc:
            for pending in waiting:
                pending.fail(exc)
            return None

    def _advance(self, batch: Batch | None, joining: Prefill) -> tuple[Batch | None, Prefill | None]:
        """Run the joining prompts: the rest of them while nothing decodes, else one chunk. Once
        they have run, their rows join the batch. If their prefill fails, only they fail."""
        if batch is None:
            positions = joining.width
        else:
            joining = self._without_ended(joining)
            if joining is None:
                return batch, None
            positions = joining.chunk_width(self.prefill_chunk_tokens)
        self._use_threads(self.prefill_threads)
        try:
            ready = joining.run(self.model, positions, scores=self._scores, vocab_size=self.vocab_size)
        except Exception as exc:
            for row in joining.rows:
                row.pending.fail(exc)
            return batch, None
        if ready is None:
            return batch, joining
        batch = ready if batch is None else batch.merge(ready)
        self.batch_sizes.append(len(batch.rows))
        return batch, None

    def _without_ended(self, joining: Prefill) -> Prefill | None:
        """Between two chunks, rows cancelled or past their deadline end at once, without waiting
        for the rest of their prompt to run; None when none is left."""
        for row in joining.rows:
            try:
                row.check_cancel_and_deadline()
            except Exception as exc:  # its own callback: this row fails, the others go on
                row.fail(exc)
        keep = self._finish_ended(joining.rows)
        if not keep:
            return None
        if len(keep) < len(joining.rows):
            joining.select(keep)
        return joining

    def _scores(self, hidden: torch.Tensor) -> torch.Tensor:
        """Raw float32 scores from final hidden states, as the model's own forward makes them
        (its LM head, then the logit scaling or soft-capping some architectures apply)."""
        import torch

        logits = self.model.get_output_embeddings()(hidden).float()
        config = getattr(self.model.config, "get_text_config", lambda: self.model.config)()
        scaling = getattr(config, "logits_scaling", None)
        if scaling:
            logits = logits / scaling
        cap = getattr(config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return logits

    def _step(self, batch: Batch) -> Batch | None:
        """Each row takes its next token; finished rows leave; the rest run one forward pass."""
        import torch

        now = started = time.perf_counter()
        self._use_threads(self.decode_threads)
        tokens: list[int] = []
        for i, row in enumerate(batch.rows):
            try:
                if row.request.candidates and row.candidate_scores is None:
                    row.score_candidates(batch.logits[i])
                if row.request.max_new_tokens <= 0:  # only scores of the prompt were asked for
                    row.finish_reason = "length"
                    tokens.append(self.pad_id)
                    continue
                token = row.next_token(batch.logits[i].clone())
                if row.request.logprobs:  # from the raw scores: next_token transformed only its copy
                    row.picked += pick(batch.logits[i:i + 1], [token], [row.request.top_logprobs])
                row.accept(token, now)
            except Exception as exc:  # its own scores or callbacks: this row fails, the others go on
                row.fail(exc)
                token = self.pad_id
            tokens.append(token)
        self._send(batch.rows)
        keep = self._finish_ended(batch.rows)
        if not keep:
            return None
        if len(keep) < len(batch.rows):
            batch.select(keep)
            tokens = [tokens[i] for i in keep]
        next_ids = torch.tensor(tokens, dtype=torch.long, device=self.device)[:, None]
        batch.mask = torch.cat([batch.mask, batch.mask.new_ones((len(batch.rows), 1))], dim=1)
        batch.last_pos = batch.last_pos + 1
        out = self.model(input_ids=next_ids, attention_mask=batch.mask, position_ids=batch.last_pos,
                         cache=batch.cache, use_cache=True)
        batch.logits = out.logits[:, -1, :].float()
        self.step_times.append((len(batch.rows), time.perf_counter() - started))
        return batch

    @staticmethod
    def _send(rows: list[Row]) -> None:
        """Every row's new text of this step, once all of them have their token: a reader on
        another thread (the worker's log pump) wakes once a step and takes the step's text from
        every row together, instead of taking the interpreter's lock from this thread between
        rows, once per row."""
        for row in rows:
            if row.finish_reason != "error":
                try:
                    row.send()
                except Exception as exc:  # its on_delta callback
                    row.fail(exc)

    def _finish_ended(self, rows: list[Row]) -> list[int]:
        """Finish the rows that have ended (a failed row has had its error already); the indices
        of the rows that go on."""
        for row in rows:
            if row.finish_reason not in (None, "error"):
                self._finish(row)
        return [i for i, row in enumerate(rows) if row.finish_reason is None]

    @staticmethod
    def _finish(row: Row) -> None:
        try:
            row.finish(time.perf_counter())
        except Exception as exc:  # its on_delta callback
            row.fail(exc)
