"""Incremental text from token ids: whole characters only, stop strings cut, never leaked."""
from __future__ import annotations


class TextStreamer:
    def __init__(self, tokenizer, stop: list[str]):
        self.tokenizer = tokenizer
        self.stop = [s for s in stop if s]
        self.text = ""  # the final text once finished; what was emitted until then
        self.emitted = 0

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def push(self, ids: list[int]) -> tuple[str, bool]:
        """The new text safe to show, and whether a stop string was reached."""
        text = self._decode(ids)
        for stop in self.stop:
            at = text.find(stop)
            if at >= 0:
                self.text = text[:at]
                return self._take(len(self.text)), True
        safe = len(text)
        if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
            safe = len(text.rstrip("\ufffd"))
        safe -= self._held_for_stop(text[:safe])
        self.text = text
        return self._take(safe), False

    def flush(self, ids: list[int]) -> str:
        if not self.stop or not any(self.text.find(s) >= 0 for s in self.stop):
            text = self._decode(ids)
            cut = [text.find(s) for s in self.stop if text.find(s) >= 0]
            self.text = text[: min(cut)] if cut else text
        return self._take(len(self.text))

    def _held_for_stop(self, text: str) -> int:
        """Length of the longest ending of `text` that could begin a stop string."""
        longest = 0
        for stop in self.stop:
            for n in range(min(len(stop) - 1, len(text)), 0, -1):
                if text.endswith(stop[:n]):
                    longest = max(longest, n)
                    break
        return longest

    def _take(self, end: int) -> str:
        if end <= self.emitted:
            return ""
        delta = self.text[self.emitted:end] if end <= len(self.text) else ""
        self.emitted = end
        return delta
