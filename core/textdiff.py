"""What an edit changed, as readers see it on a revisions page: the old and new text interleaved,
removed words in <del> and added ones in <ins>. Words are compared whole; Chinese, written without
spaces, character by character.

Lines are compared first and words only inside the lines that changed, each block within a
budget: a word diff costs up to the product of the two blocks' lengths (and worse on repetitive
text), so a long post edited end to end shows its changed block whole instead of costing seconds.
The line comparison has its budget too, after the lines the texts begin and end with alike:
thousands of short lines, each repeated just too seldom for difflib's "junk" heuristic, cost
seconds as well."""
from __future__ import annotations

import re
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]|\w+|\s+|[^\w\s]", re.UNICODE)
BLOCK_BUDGET = 1_000_000  # tokens before × tokens after, for one changed block
TOTAL_BUDGET = 4_000_000  # the same, summed over one diff's blocks
LINE_BUDGET = 4_000_000  # lines before × lines after, of the part between their common ends


def common_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    """How many lines the two begin with alike, and how many (of the rest) they end with alike."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail


def too_costly(old: list[str], new: list[str]) -> bool:
    """Whether comparing these lists of lines would cost more than LINE_BUDGET."""
    head, tail = common_ends(old, new)
    return (len(old) - head - tail) * (len(new) - head - tail) > LINE_BUDGET


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
    head, tail = common_ends(old_lines, new_lines)
    parts = [escape("".join(old_lines[:head]))]
    old_lines, new_lines, ending = old_lines[head:len(old_lines) - tail], new_lines[head:len(new_lines) - tail], \
        new_lines[len(new_lines) - tail:]
    if too_costly(old_lines, new_lines):
        opcodes = [("replace", 0, len(old_lines), 0, len(new_lines))]
    else:
        opcodes = SequenceMatcher(None, old_lines, new_lines).get_opcodes()
    budget = TOTAL_BUDGET
    for op, i1, i2, j1, j2 in opcodes:
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
    parts.append(escape("".join(ending)))
    return mark_safe("".join(parts))
