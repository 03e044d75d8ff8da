"""Continuous batching: concurrent requests decode together, each with its own settings.

One scheduler thread per model owns the model. It takes up to `max_batch` waiting requests,
left-pads them into one batch, and decodes step by step with a shared KV cache. Between steps,
requests that arrived meanwhile are prefilled and merged into the running batch, and rows that
finish (or are cancelled) leave it, so the batch stays full while work is waiting. Each row has
its own temperature, top-p, top-k, repetition penalty, seed, stop strings and token limit; under
greedy decoding a row produces the same text as it would alone.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .streaming import TextStreamer


@dataclass
class GenerationRequest:
    prompt_ids: list[int]
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0 means greedy
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    min_new_tokens: int = 0
    on_delta: Callable[[str], None] | None = None
    should_cancel: Callable[[], bool] | None = None


@dataclass
class GenerationResult:
    text: str
    finish_reason: str  # "stop" | "length" | "cancelled"
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    total_s: float

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

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def outcome(self) -> GenerationResult:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result


class _Row:
    """Decoding state of one request inside a batch."""

    def __init__(self, pending: Pending, tokenizer, eos_ids: set[int], device):
        import torch

        self.pending = pending
        self.request = request = pending.request
        self.generated: list[int] = []
        self.seen = torch.tensor(sorted(set(request.prompt_ids)), dtype=torch.long, device=device)
        self.streamer = TextStreamer(tokenizer, request.stop)
        self.eos_ids = eos_ids
        self.first_token_at: float | None = None
        self.finish_reason: str | None = None
        self.generator = None
        if request.temperature > 0:
            self.generator = torch.Generator(device=device)
            seed = request.seed if request.seed is not None else torch.seed() % (2**63)
            self.generator.manual_seed(int(seed))

    def next_token(self, logits) -> int:
        import torch

        req = self.request
        if req.repetition_penalty != 1.0 and self.seen.numel():
            picked = logits[self.seen]
            logits[self.seen] = torch.where(picked < 0, picked * req.repetition_penalty,
                                            picked / req.repetition_penalty)
        if len(self.generated) < req.min_new_tokens:
            for eos in self.eos_ids:
                logits[eos] = float("-inf")
        if req.temperature <= 0:
            return int(torch.argmax(logits))
        logits = logits / req.temperature
        if req.top_k > 0:
            kth = torch.topk(logits, min(req.top_k, logits.shape[-1])).values[-1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if req.top_p < 1.0:
            sorted_logits, order = torch.sort(logits, descending=True)
            cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
            drop = cumulative - torch.softmax(sorted_logits, dim=-1) > req.top_p
            logits = logits.index_fill(0, order[drop], float("-inf"))
        probs = torch.softmax(logits.float(), dim=-1)
        return int(torch.multinomial(probs, 1, generator=self.generator))

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
        if delta and req.on_delta:
            req.on_delta(delta)
        if hit_stop:
            self.finish_reason = "stop"
        elif len(self.generated) >= req.max_new_tokens:
            self.finish_reason = "length"
        elif req.should_cancel and req.should_cancel():
            self.finish_reason = "cancelled"

    def finish(self, now: float) -> None:
        tail = self.streamer.flush(self.generated)
        if tail and self.request.on_delta:
            self.request.on_delta(tail)
        p = self.pending
        p.result = GenerationResult(
            text=self.streamer.text,
            finish_reason=self.finish_reason or "length",
            prompt_tokens=len(self.request.prompt_ids),
            completion_tokens=len(self.generated),
            ttft_s=(self.first_token_at or now) - p.submitted,
            total_s=now - p.submitted,
        )
        p.done.set()


class BatchingEngine:
    def __init__(self, model, tokenizer, *, max_batch: int = 8, gather_window_s: float = 0.02):
        self.model = model
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.gather_window_s = gather_window_s
        self.device = next(model.parameters()).device
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if tokenizer.eos_token_id is not None:
            eos_ids.add(tokenizer.eos_token_id)
        self.eos_ids = eos_ids
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(eos_ids)
        self.batch_sizes: list[int] = []  # observed, for tests and benchmarks
        self._queue: queue.Queue[Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="batching-engine", daemon=True)
        self._thread.start()

    # --- public -------------------------------------------------------------------------------
    def encode_chat(self, messages: list[dict]) -> list[int]:
        encoded = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                     tokenize=True, return_dict=True)
        return list(encoded["input_ids"])

    def encode_text(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def submit(self, request: GenerationRequest) -> Pending:
        """Queue a request for the next batch. Its callbacks run on the scheduler thread, so they
        should be cheap (put into a queue, read a flag)."""
        pending = Pending(request)
        self._queue.put(pending)
        return pending

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """Blocks the calling thread until its request is done; the scheduler does the work."""
        return self.submit(request).outcome()

    def close(self) -> None:
        self._queue.put(None)

    # --- scheduler ----------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.perf_counter() + self.gather_window_s
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.perf_counter()))
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                self._run(batch)
            except BaseException as exc:  # a failed batch fails its requests, not the engine
                for pending in batch:
                    if not pending.done.is_set():
                        pending.error = exc
                        pending.done.set()

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

    def _prefill(self, batch: list[Pending]):
        """Left-pad the prompts into one batch and run them once: rows, cache, mask, positions, logits."""
        import torch
        from transformers import DynamicCache

        rows = [_Row(p, self.tokenizer, self.eos_ids, self.device) for p in batch]
        width = max(len(p.request.prompt_ids) for p in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, p in enumerate(batch):
            prompt = p.request.prompt_ids
            ids[i, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
            mask[i, width - len(prompt):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True)
        return rows, cache, mask, positions[:, -1:], out.logits[:, -1, :].float()

    @staticmethod
    def _merge(a, b):
        """Join two running batches (rows, cache, mask, last positions, logits) into one.

        The shorter cache is left-padded to the longer one; the mask hides the padding, and each
        row keeps its own positions, so every row decodes as it would alone.
        """
        import torch
        import torch.nn.functional as F

        rows_a, cache_a, mask_a, pos_a, logits_a = a
        rows_b, cache_b, mask_b, pos_b, logits_b = b
        width = max(mask_a.shape[1], mask_b.shape[1])
        pad_a, pad_b = width - mask_a.shape[1], width - mask_b.shape[1]
        for layer_a, layer_b in zip(cache_a.layers, cache_b.layers):
            layer_a.keys = torch.cat([F.pad(layer_a.keys, (0, 0, pad_a, 0)), F.pad(layer_b.keys, (0, 0, pad_b, 0))])
            layer_a.values = torch.cat([F.pad(layer_a.values, (0, 0, pad_a, 0)),
                                        F.pad(layer_b.values, (0, 0, pad_b, 0))])
        mask = torch.cat([F.pad(mask_a, (pad_a, 0)), F.pad(mask_b, (pad_b, 0))])
        return rows_a + rows_b, cache_a, mask, torch.cat([pos_a, pos_b]), torch.cat([logits_a, logits_b])

    def _run(self, batch: list[Pending]) -> None:
        """Decode until every row is done, admitting newly queued requests between steps."""
        import torch

        with torch.inference_mode():
            rows, cache, mask, last_pos, logits = self._prefill(batch)
            self.batch_sizes.append(len(rows))
            while rows:
                now = time.perf_counter()
                tokens = []
                for i, row in enumerate(rows):
                    token = row.next_token(logits[i].clone())
                    row.accept(token, now)
                    tokens.append(token)
                keep = [i for i, row in enumerate(rows) if row.finish_reason is None]
                for row in rows:
                    if row.finish_reason is not None:
                        row.finish(time.perf_counter())
                if len(keep) < len(rows):
                    index = torch.tensor(keep, dtype=torch.long, device=self.device)
                    cache.batch_select_indices(index)
                    mask, last_pos = mask[index], last_pos[index]
                    rows, tokens = [rows[i] for i in keep], [tokens[i] for i in keep]
                if rows:
                    next_ids = torch.tensor(tokens, dtype=torch.long, device=self.device)[:, None]
                    mask = torch.cat([mask, mask.new_ones((len(rows), 1))], dim=1)
                    last_pos = last_pos + 1
                    out = self.model(input_ids=next_ids, attention_mask=mask, position_ids=last_pos,
                                     cache=cache, use_cache=True)
                    logits = out.logits[:, -1, :].float()
                newcomers = self._take_waiting(self.max_batch - len(rows))
                if newcomers:
                    joined = self._prefill(newcomers)
                    if rows:
                        rows, cache, mask, last_pos, logits = self._merge((rows, cache, mask, last_pos, logits), joined)
                    else:
                        rows, cache, mask, last_pos, logits = joined
                    self.batch_sizes.append(len(rows))
