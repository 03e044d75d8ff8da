"""What an edit changed, as readers see it on a revisions page: the old and new text interleaved,
removed words in <del> and added ones in <ins>. Words are compared whole; Chinese, written without
spaces, character by character.

Lines are compared first and words only inside the lines that changed, each block within a
budget: a word diff costs up to the product of the two blocks' lengths (and worse on repetitive
text), so a long post edited end to end shows its changed block whole instead of costing seconds."""
from __future__ import annotations

import re
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|\w+|\s+|[^\w\s]", re.UNICODE)
BLOCK_BUDGET = 1_000_000  # tokens before × tokens after, for one changed block
TOTAL_BUDGET = 4_000_000  # the same, summed over one diff's blocks


def _marked(old: str, new: str) -> list[str]:
    parts = []
    if old:
        parts.append(f"<del>{escape(old)}</del>")
    if new:
        parts.append(f"<ins>{escape(new)}</ins>")
    return parts


def _word_diff(before: list[str], after: list[str]) -> list[str]:
    parts = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(before[i1:i2])))
        else:
            parts.extend(_marked("".join(before[i1:i2]), "".join(after[j1:j2])))
    return parts


def inline_diff(old: str, new: str) -> SafeString:
    """HTML of `new` with what changed from `old` marked; every piece of text escaped."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    budget = TOTAL_BUDGET
    parts = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old_lines, new_lines).get_opcodes():
        removed, added = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if op == "equal":
            parts.append(escape(removed))
            continue
        before, after = TOKEN.findall(removed), TOKEN.findall(added)
        cost = len(before) * len(after)
        if before and after and cost <= min(BLOCK_BUDGET, budget):
            budget -= cost
            parts.extend(_word_diff(before, after))
        else:
            parts.extend(_marked(removed, added))
    return mark_safe("".join(parts))
