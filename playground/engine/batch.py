"""The rows that decode together, with their shared key-value cache."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .rows import Row

if TYPE_CHECKING:
    import torch
    from transformers import DynamicCache


def first_real_column(mask: torch.Tensor) -> int:
    """The first column of a left-padded [rows, width] mask where some row has a real token."""
    return int(mask.any(dim=0).int().argmax())


def drop_leading_columns(cache: DynamicCache, n: int) -> None:
    for layer in cache.layers:
        layer.keys, layer.values = layer.keys[:, :, n:], layer.values[:, :, n:]


@dataclass
class Batch:
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
        start = first_real_column(self.mask)
        if start == 0:
            return
        drop_leading_columns(self.cache, start)
        self.mask = self.mask[:, start:]

    def merge(self, other: Batch) -> Batch:
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
