"""Incremental text from token ids: whole characters only, stop strings cut, never leaked.

Each token decodes a short window, not the whole output (as vLLM and TGI do): the text of
`ids[prefix:read]` was already shown, so the text of `ids[prefix:]` past it is new. Starting the
window a few tokens back keeps SentencePiece's leading spaces right; a window that ends in U+FFFD
(half of a multi-byte character) waits for the next token, and is dropped if none comes.
"""
from __future__ import annotations


class StopCutter:
    """Cuts streamed text at the first stop string and never lets a stop string leak: an ending
    that could begin one is held back until the next piece settles it."""

    def __init__(self, stop: list[str]):
        self.stop = [s for s in stop if s]
        self._held = ""
        self.stopped = False

    def push(self, piece: str) -> tuple[str, bool]:
        """The part of `piece` safe to show now, and whether a stop string was reached."""
        if self.stopped:
            return "", True
        # A stop string cannot start in text already shown: its beginning would have been held.
        text = self._held + piece
        at = self.first_stop(text)
        if at >= 0:
            self._held, self.stopped = "", True
            return text[:at], True
        safe = len(text) - self._held_for_stop(text)
        self._held = text[safe:]
        return text[:safe], False

    def flush(self) -> str:
        """What was held back, once the stream ended without reaching a stop string."""
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def first_stop(self, text: str) -> int:
        found = [at for at in (text.find(stop) for stop in self.stop) if at >= 0]
        return min(found, default=-1)

    def _held_for_stop(self, text: str) -> int:
        """Length of the longest ending of `text` that could begin a stop string."""
        longest = 0
        for stop in self.stop:
            for n in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:n]):
                    longest = n
                    break
        return longest


class TextStreamer:
    def __init__(self, tokenizer, stop: list[str]):
        self.tokenizer = tokenizer
        self.text = ""  # the whole output, set by flush
        self._prefix = 0  # ids[_prefix:_read] decode to text already taken from the window
        self._read = 0
        self._cutter = StopCutter(stop)
        self._shown = 0  # characters handed out so far

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def push(self, ids: list[int]) -> tuple[str, bool]:
        """The new text safe to show, and whether a stop string was reached. `ids` is the whole
        output so far, one token longer than at the previous push."""
        piece, stopped = self._cutter.push(self._new_text(ids))
        return self._show(piece), stopped

    def flush(self, ids: list[int]) -> str:
        """The text not shown yet, once the row is done; `text` becomes the whole output."""
        # Once per request: the windows may have held back a partial character. One that the
        # token limit cut in half is dropped (as vLLM does), not shown as U+FFFD.
        text = self._decode(ids).rstrip("\ufffd")
        at = self._cutter.first_stop(text)
        self.text = text[:at] if at >= 0 else text
        return self._show(self.text[self._shown:])

    def _new_text(self, ids: list[int]) -> str:
        known = self._decode(ids[self._prefix:self._read]) if self._read > self._prefix else ""
        window = self._decode(ids[self._prefix:])
        if len(window) <= len(known) or window.endswith("\ufffd"):
            return ""
        self._prefix, self._read = self._read, len(ids)
        return window[len(known):]

    def _show(self, text: str) -> str:
        self._shown += len(text)
        return text
