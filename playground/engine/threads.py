"""How many CPU threads the engine's decode steps use, measured when the engine starts.

On a CPU, torch splits each operation across its intra-op threads. A prefill (every prompt
token at once) gains from them. A decode step (one token per row) of a small model is mostly
the fixed cost of hundreds of small operations, where handing each to more threads can cost
more than it saves: the demo model at a batch of 8 on 2 cores decodes faster on one thread than
on two. Every thread a step takes is also one that the rest of the machine (the web server, the
database, another engine) loses. So the engine times a decode step at a few thread counts and
decodes with the fewest that come within TOLERANCE of the fastest; prefills keep every thread.

`torch.set_num_threads` sets the calling thread's OpenMP and MKL thread counts, so each engine's
scheduler thread sets its own before each phase (and torch's default for threads that start
later: an engine sets every thread back when it goes idle).
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

TOLERANCE = 0.05  # fewer threads win unless more are this much faster
ROUNDS = 3  # the counts alternate round by round, so that a change in the machine's speed hits them alike
STEPS = 2  # timed steps per count and round, after one untimed step (the thread pool resizes)
PROMPT_TOKENS = 16


def candidates(available: int) -> list[int]:
    """1, then doubling, then every available thread: [1, 2, 4, 8, 12] for 12."""
    counts, n = [], 1
    while n < available:
        counts.append(n)
        n *= 2
    return counts + [max(1, available)]


def fewest_within(step_seconds: dict[int, float], tolerance: float = TOLERANCE) -> int:
    """The fewest threads whose step time is within `tolerance` of the fastest."""
    fastest = min(step_seconds.values())
    return min(n for n, seconds in step_seconds.items() if seconds <= fastest * (1 + tolerance))


def time_steps(step: Callable[[], None], counts: list[int], *, rounds: int = ROUNDS,
               steps: int = STEPS) -> dict[int, float]:
    """The median seconds of `step` at each thread count, the counts' order reversed every other
    round. Leaves the calling thread at the count it had."""
    import torch

    before = torch.get_num_threads()
    times: dict[int, list[float]] = {n: [] for n in counts}
    try:
        for number in range(rounds):
            for n in counts if number % 2 == 0 else reversed(counts):
                torch.set_num_threads(n)
                step()  # untimed: the first step after a change pays for it
                for _ in range(steps):
                    started = time.perf_counter()
                    step()
                    times[n].append(time.perf_counter() - started)
    finally:
        torch.set_num_threads(before)
    return {n: statistics.median(seconds) for n, seconds in times.items()}


def decode_step_times(model, *, rows: int, token_id: int, counts: list[int]) -> dict[int, float]:
    """Seconds of one decode step of `rows` rows at each thread count, on a throwaway cache."""
    import torch
    from transformers import DynamicCache

    device = next(model.parameters()).device
    with torch.inference_mode():
        ids = torch.full((rows, PROMPT_TOKENS), token_id, dtype=torch.long, device=device)
        cache = DynamicCache()
        model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=1)
        length = PROMPT_TOKENS
        next_ids = torch.full((rows, 1), token_id, dtype=torch.long, device=device)

        def step() -> None:
            nonlocal length
            mask = torch.ones((rows, length + 1), dtype=torch.long, device=device)
            position = torch.full((rows, 1), length, dtype=torch.long, device=device)
            model(input_ids=next_ids, attention_mask=mask, position_ids=position, cache=cache, use_cache=True)
            length += 1

        return time_steps(step, counts)


def as_text(step_seconds: dict[int, float]) -> str:
    return ", ".join(f"{seconds * 1000:.1f} ms on {n}" for n, seconds in sorted(step_seconds.items()))


__all__ = ["as_text", "candidates", "decode_step_times", "fewest_within", "time_steps"]
