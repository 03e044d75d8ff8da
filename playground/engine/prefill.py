"""Prompts run through the model before they decode: in one pass, or a chunk of positions at a
time beside rows that are already decoding.

A prefill holds the model while it runs: on two CPU cores about 2 ms a token, so a 1,000-token
prompt joining a running batch in one pass stopped every decoding row for two seconds. Beside a
running batch the engine runs a long prefill in chunks instead, one chunk between two decode steps
(vLLM's chunked prefill): the decoding rows keep taking tokens and wait at most one chunk, and the
new prompt's first token comes a little later than it would in one pass.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .batch import Batch, drop_leading_columns, first_real_column
from .logprobs import prompt_logprobs
from .rows import Row

if TYPE_CHECKING:
    import torch

# At least a full batch of chat prompts (8 × ~45 tokens with the demo model's template), so a burst
# joining a running batch still runs in one pass; vLLM's first default budget for chunked prefill.
CPU_CHUNK_TOKENS = 512  # ~1.1 s of the demo model on two cores
ACCELERATOR_CHUNK_TOKENS = 2048  # vLLM's default budget of batched tokens


def default_chunk_tokens(device_type: str) -> int:
    return CPU_CHUNK_TOKENS if device_type == "cpu" else ACCELERATOR_CHUNK_TOKENS


class Prefill:
    """Left-padded prompts and the cache they fill. Each `run` takes the next positions of every
    row together; the mask hides the padding and each row keeps its own positions, so a prompt run
    in chunks leaves the same cache and scores as one run in one pass."""

    def __init__(self, rows: list[Row], *, pad_id: int, device: torch.device) -> None:
        import torch
        from transformers import DynamicCache

        self.rows = rows
        width = max(len(row.request.prompt_ids) for row in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            prompt = row.request.prompt_ids
            ids[i, width - len(prompt):] = torch.tensor(prompt, dtype=torch.long)
            mask[i, width - len(prompt):] = 1
        self.ids, self.mask = ids.to(device), mask.to(device)
        self.positions = (self.mask.cumsum(-1) - 1).clamp(min=0)
        self.cache = DynamicCache()
        self.done = 0  # positions run so far
        self._hidden: list[torch.Tensor] = []  # final hidden states so far, for the `echo` rows

    @property
    def width(self) -> int:
        return self.ids.shape[1]

    @property
    def echo(self) -> list[int]:
        """Rows that want their prompt's log-probabilities: they need the final hidden state of
        every position, kept chunk by chunk; the others need scores for the last position only."""
        return [i for i, row in enumerate(self.rows) if row.request.prompt_logprobs]

    def select(self, keep: list[int]) -> None:
        """Keep only these rows (the others left between two chunks)."""
        import torch

        index = torch.tensor(keep, dtype=torch.long, device=self.ids.device)
        self.rows = [self.rows[i] for i in keep]
        self.ids, self.mask, self.positions = self.ids[index], self.mask[index], self.positions[index]
        if self.done:
            self.cache.batch_select_indices(index)
        self._hidden = [hidden[index] for hidden in self._hidden]
        self._trim()

    def _trim(self) -> None:
        """Drop the leading columns that are padding in every remaining row, run or not: a long
        prompt that left leaves neither its width to run nor its cache behind."""
        import torch
        from transformers import DynamicCache

        start = first_real_column(self.mask)
        if start == 0:
            return
        self.ids, self.mask, self.positions = self.ids[:, start:], self.mask[:, start:], self.positions[:, start:]
        if start >= self.done:  # nothing run so far is any remaining row's
            self.cache, self._hidden, self.done = DynamicCache(), [], 0
            return
        drop_leading_columns(self.cache, start)
        if self._hidden:
            self._hidden = [torch.cat(self._hidden, dim=1)[:, start:]]
        self.done -= start

    def chunk_width(self, token_budget: int) -> int:
        """Positions per chunk so that rows × positions stays within `token_budget` (0: no
        chunks), split evenly so that the last chunk is not a sliver."""
        if token_budget <= 0:
            return self.width
        chunks = -(-len(self.rows) * self.width // token_budget)
        return -(-self.width // chunks)

    def run(self, model, positions: int, *, scores: Callable[[torch.Tensor], torch.Tensor],
            vocab_size: int) -> Batch | None:
        """Run the next `positions` positions; once the whole prompt has run, the batch ready to
        decode. `scores` turns final hidden states into float32 scores, as the model's head does."""
        import torch

        echo = self.echo
        start, end = self.done, min(self.done + positions, self.width)
        inputs = dict(input_ids=self.ids[:, start:end], attention_mask=self.mask[:, :end],
                      position_ids=self.positions[:, start:end], cache=self.cache, use_cache=True)
        if echo:
            self._hidden.append(model.get_decoder()(**inputs).last_hidden_state)
        else:  # scores for the last position only: O(rows × vocab) memory, not O(rows × length × vocab)
            logits = model(**inputs, logits_to_keep=1).logits[:, -1, :]
        self.done = end
        if end < self.width:
            return None
        if echo:
            hidden = torch.cat(self._hidden, dim=1)
            for i in echo:
                row, prompt = self.rows[i], self.rows[i].request.prompt_ids
                row.prompt_items = prompt_logprobs(hidden[i, self.width - len(prompt):], prompt,
                                                   row.request.top_logprobs, scores, vocab_size)
            logits = scores(hidden[:, -1, :])
        return Batch(self.rows, self.cache, self.mask, self.positions[:, -1:], logits.float())
