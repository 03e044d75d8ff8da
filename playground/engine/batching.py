"""Continuous batching: concurrent requests decode together, each with its own settings.

One scheduler thread per model owns the model. It takes up to `max_batch` waiting requests,
left-pads them into one batch, and decodes step by step with a shared KV cache. Between steps,
requests that arrived meanwhile are prefilled and merged into the running batch, and rows that
finish (or are cancelled, or time out) leave it, so the batch stays full while work is waiting.
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from . import threads
from .logprobs import TokenTexts, pick, prompt_logprobs
from .rows import EngineClosed, GenerationRequest, GenerationResult, Pending, Row

if TYPE_CHECKING:
    import torch
    from transformers import DynamicCache

__all__ = ["BatchingEngine", "EngineClosed", "GenerationRequest", "GenerationResult", "Pending"]
log = logging.getLogger(__name__)


@dataclass
class _Batch:
    """Rows decoding together. The cache is left-padded; the mask hides the padding, and each row
    keeps its own positions, so every row decodes as it would alone."""

    rows: list[Row]
    cache: DynamicCache
    mask: torch.Tensor  # [rows, width]: 1 for a real token, 0 for padding
    last_pos: torch.Tensor  # [rows, 1]: the position of each row's latest token
    logits: torch.Tensor  # [rows, vocab] float32: the scores for each row's next token

    def select(self, keep: list[int]) -> None:
        """Keep only these rows, then drop the padding that every remaining row has."""
        import torch

        index = torch.tensor(keep, dtype=torch.long, device=self.mask.device)
        self.cache.batch_select_indices(index)
        self.mask, self.last_pos, self.logits = self.mask[index], self.last_pos[index], self.logits[index]
        self.rows = [self.rows[i] for i in keep]
        self._trim()

    def _trim(self) -> None:
        """Slice off the leading columns that are padding in every row, so memory and step time
        follow the longest remaining row, not the longest row the batch ever held."""
        start = int(self.mask.any(dim=0).int().argmax())  # the first column with a real token
        if start == 0:
            return
        for layer in self.cache.layers:
            layer.keys, layer.values = layer.keys[:, :, start:], layer.values[:, :, start:]
        self.mask = self.mask[:, start:]

    def merge(self, other: _Batch) -> _Batch:
        """Join `other` into this batch; the narrower cache is left-padded to the wider one. Both
        are trimmed, so the result is too."""
        import torch
        import torch.nn.functional as F

        width = max(self.mask.shape[1], other.mask.shape[1])
        pad_a, pad_b = width - self.mask.shape[1], width - other.mask.shape[1]
        for a, b in zip(self.cache.layers, other.cache.layers):
            a.keys = torch.cat([F.pad(a.keys, (0, 0, pad_a, 0)), F.pad(b.keys, (0, 0, pad_b, 0))])
            a.values = torch.cat([F.pad(a.values, (0, 0, pad_a, 0)), F.pad(b.values, (0, 0, pad_b, 0))])
        self.mask = torch.cat([F.pad(self.mask, (pad_a, 0)), F.pad(other.mask, (pad_b, 0))])
        self.rows = self.rows + other.rows
        self.last_pos = torch.cat([self.last_pos, other.last_pos])
        self.logits = torch.cat([self.logits, other.logits])
        return self


class BatchingEngine:
    """`incoming`, if given, says how many requests are on their way to this process's engines
    (jobs a worker has taken from its queue and not yet submitted): an idle engine that gets a
    request waits for them, up to `max_gather_s`, so that a burst of jobs starts as one batch
    with one prefill instead of a lone row decoding while the rest trickle in. Without requests on
    their way it waits `gather_window_s` after the latest arrival, so a lone request starts at once.

    Prefills use every intra-op thread torch had when the engine was built; decode steps use
    `decode_threads`, by default measured on a CPU as the fewest that decode about as fast as
    the most (threads.py)."""

    def __init__(self, model, tokenizer, *, max_batch: int = 8, gather_window_s: float = 0.02,
                 max_gather_s: float = 0.3, incoming: Callable[[], int] | None = None,
                 decode_threads: int | None = None):
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.gather_window_s = gather_window_s
        self.max_gather_s = max_gather_s
        self.incoming = incoming
        self.device = next(model.parameters()).device
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
        self.decode_threads = decode_threads or self._fastest_decode_threads()
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
    def encode_chat(self, messages: list[dict]) -> list[int]:
        encoded = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                     tokenize=True, return_dict=True)
        return list(encoded["input_ids"])

    def encode_text(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

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
    def _fastest_decode_threads(self) -> int:
        if self.device.type != "cpu" or self.prefill_threads <= 1:
            return self.prefill_threads
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
        """Decode until every row is done, admitting newly queued requests between steps."""
        import torch

        batch: _Batch | None = None
        try:
            with torch.inference_mode():
                while batch is not None or waiting:
                    if self._abort:
                        raise EngineClosed("The engine was closed before this request finished.")
                    if waiting:
                        batch = self._join(batch, waiting)
                    if batch is not None:
                        batch = self._step(batch)
                    waiting = self._take_waiting(self.max_batch - (len(batch.rows) if batch else 0))
        except BaseException as exc:  # a failed batch fails every request it holds, not the engine
            for pending in waiting + [row.pending for row in (batch.rows if batch else [])]:
                pending.fail(exc)

    def _join(self, batch: _Batch | None, waiting: list[Pending]) -> _Batch | None:
        """Prefill the waiting requests and merge them into the running batch. If their prefill
        fails (a prompt the model cannot take), only they fail."""
        try:
            joined = self._prefill(waiting)
        except Exception as exc:
            for pending in waiting:
                pending.fail(exc)
            return batch
        if joined is None:
            return batch
        batch = joined if batch is None else batch.merge(joined)
        self.batch_sizes.append(len(batch.rows))
        return batch

    def _prefill(self, waiting: list[Pending]) -> _Batch | None:
        """Left-pad the prompts into one batch and run them once. Requests already past their
        deadline end at once, without running the model; None when none is left."""
        import torch
        from transformers import DynamicCache

        rows = []
        for pending in waiting:
            row = Row(pending, self.tokenizer, self.eos_ids, self.device, self.texts)
            if row.timed_out():
                row.finish_reason = "timeout"
                self._finish(row)
            else:
                rows.append(row)
        if not rows:
            return None
        width = max(len(row.request.prompt_ids) for row in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            prompt = row.request.prompt_ids
            ids[i, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
            mask[i, width - len(prompt):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        self._use_threads(self.prefill_threads)
        cache = DynamicCache()
        echo = [i for i, row in enumerate(rows) if row.request.prompt_logprobs]
        if not echo:
            # Scores for the last position only: O(batch x vocab) memory, not O(batch x length x vocab).
            out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache,
                             use_cache=True, logits_to_keep=1)
            return _Batch(rows, cache, mask, positions[:, -1:], out.logits[:, -1, :].float())
        # A row wants its prompt's log-probabilities: take the final hidden states of every
        # position and score them, for those rows only, a chunk of positions at a time.
        hidden = self.model.get_decoder()(input_ids=ids, attention_mask=mask, position_ids=positions,
                                          cache=cache, use_cache=True).last_hidden_state
        for i in echo:
            row, prompt = rows[i], rows[i].request.prompt_ids
            row.prompt_items = prompt_logprobs(hidden[i, width - len(prompt):], prompt, row.request.top_logprobs,
                                               self._scores, self.vocab_size)
        return _Batch(rows, cache, mask, positions[:, -1:], self._scores(hidden[:, -1, :]))

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

    def _step(self, batch: _Batch) -> _Batch | None:
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
        keep = [i for i, row in enumerate(batch.rows) if row.finish_reason is None]
        for row in batch.rows:
            if row.finish_reason not in (None, "error"):
                self._finish(row)
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

    @staticmethod
    def _finish(row: Row) -> None:
        try:
            row.finish(time.perf_counter())
        except Exception as exc:  # its on_delta callback
            row.fail(exc)
