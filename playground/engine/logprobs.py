"""Log-probabilities for evaluation tools: of each token a row picks, with the best alternatives
at that step, and of a prompt's own tokens (OpenAI's `echo`).

Scores are the log-softmax of the model's raw logits, before any sampling transform (repetition
penalty, temperature, top-k/top-p), as vLLM reports them by default. Each token id is decoded on
its own (the same text for a token wherever it appears: as a picked token and as an alternative,
so clients can compare them), with its bytes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

MAX_TOP_LOGPROBS = 20  # OpenAI's limit for chat; legacy completions allow 5
# Prompt log-probabilities are computed a chunk of positions at a time: at most this many scores
# (positions x vocabulary) exist at once, whatever the prompt's length.
PROMPT_CHUNK_SCORES = 1 << 24
_BYTE_TOKEN = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")  # SentencePiece's byte fallback


@dataclass
class TokenLogprob:
    """One position: the token there, its log-probability (None for a prompt's first token,
    which nothing predicts), and the best alternatives as (token id, log-probability)."""

    token: int
    logprob: float | None
    top: list[tuple[int, float]]


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, reversed: each of its 256 characters -> the byte it stands for."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


class TokenTexts:
    """Each token id's own text and bytes, decoded once and kept."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self._cache: dict[int, tuple[str, list[int]]] = {}
        self._bytes_of = _byte_decoder() if _is_byte_level(tokenizer) else None

    def get(self, token: int) -> tuple[str, list[int]]:
        found = self._cache.get(token)
        if found is None:
            text = self.tokenizer.decode([token], skip_special_tokens=False, clean_up_tokenization_spaces=False)
            # PostgreSQL stores no NUL in text or JSON: a NUL byte's token shows as U+FFFD (its bytes stay exact).
            found = self._cache[token] = (text.replace("\x00", "\ufffd"), self._bytes(token, text))
        return found

    def _bytes(self, token: int, text: str) -> list[int]:
        """The token's own bytes: a piece of a multi-byte character decodes to U+FFFD on its own,
        but its bytes are exact (byte-level BPE, SentencePiece byte fallback)."""
        piece = self.tokenizer.convert_ids_to_tokens(token)
        if isinstance(piece, str):
            special = token in set(getattr(self.tokenizer, "all_special_ids", []) or [])
            if self._bytes_of is not None and not special and piece and all(c in self._bytes_of for c in piece):
                return [self._bytes_of[c] for c in piece]
            match = _BYTE_TOKEN.match(piece)
            if match:
                return [int(match.group(1), 16)]
        return list(text.encode("utf-8"))

    def entry(self, item: TokenLogprob) -> dict:
        """OpenAI's chat shape: {token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}."""
        text, raw = self.get(item.token)
        top = []
        for token, logprob in item.top:
            alt_text, alt_raw = self.get(token)
            top.append({"token": alt_text, "logprob": logprob, "bytes": alt_raw})
        return {"token": text, "logprob": item.logprob, "bytes": raw, "top_logprobs": top}


def _is_byte_level(tokenizer) -> bool:
    try:
        decoder = json.loads(tokenizer.backend_tokenizer.to_str()).get("decoder")
    except Exception:  # a slow tokenizer, or one without a serialisable backend
        return False
    return '"ByteLevel"' in json.dumps(decoder)


def pick(scores: torch.Tensor, tokens: list[int], tops: list[int]) -> list[TokenLogprob]:
    """For rows of raw scores [n, vocab]: each picked token's log-probability and the `tops[i]`
    best alternatives. The picked value and the alternatives come from the same tensor, so a greedy
    pick equals its best alternative exactly."""
    import torch

    logprobs = torch.log_softmax(scores.float(), dim=-1)
    picked = logprobs.gather(1, torch.tensor(tokens, device=logprobs.device)[:, None])[:, 0].tolist()
    k = max(tops, default=0)
    top_values, top_ids = (logprobs.topk(k, dim=-1) if k else (None, None))
    top_values = top_values.tolist() if k else None
    top_ids = top_ids.tolist() if k else None
    return [TokenLogprob(token, value, list(zip(top_ids[i][:tops[i]], top_values[i][:tops[i]])) if k else [])
            for i, (token, value) in enumerate(zip(tokens, picked))]


def prompt_logprobs(hidden: torch.Tensor, prompt: list[int], top: int, head, vocab: int) -> list[TokenLogprob]:
    """Each prompt token's log-probability given the tokens before it, from the final hidden
    states of the prompt's positions ([len(prompt), hidden]); `head` maps hidden states to raw
    scores over `vocab` tokens. Computed a chunk of positions at a time; the first token has none."""
    items = [TokenLogprob(prompt[0], None, [])]
    chunk = max(1, PROMPT_CHUNK_SCORES // max(1, vocab))
    for start in range(0, len(prompt) - 1, chunk):
        targets = prompt[start + 1:start + 1 + chunk]
        items += pick(head(hidden[start:start + len(targets)]), targets, [top] * len(targets))
    return items
