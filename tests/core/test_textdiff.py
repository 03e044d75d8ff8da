"""Inline diffs of edits: words marked inside changed lines, big rewrites marked whole."""
import random

from core.textdiff import inline_diff


def test_a_changed_word_is_marked_and_the_rest_kept():
    assert inline_diff("the old body", "the new body") == "the <del>old</del><ins>new</ins> body"


def test_chinese_is_compared_character_by_character():
    assert inline_diff("我喜欢茶", "我喜欢咖啡") == "我喜欢<del>茶</del><ins>咖啡</ins>"


def test_every_piece_is_escaped():
    assert inline_diff("<b>", "<i>") == "&lt;<del>b</del><ins>i</ins>&gt;"


def test_only_the_changed_line_is_compared_word_by_word():
    html = inline_diff("intro\nkeep this line\nold end\n", "intro\nkeep this line\nnew end\n")
    assert html == "intro\nkeep this line\n<del>old</del><ins>new</ins> end\n"


def test_a_rewrite_past_the_budget_is_marked_as_one_block():
    old, new = "a b " * 1500, "b a " * 1500  # 3000 tokens each: 9 million pairs
    html = inline_diff(f"title\n{old}", f"title\n{new}")
    assert html == f"title\n<del>{old}</del><ins>{new}</ins>"


def shuffled_lines(seed: int) -> list[str]:
    """4,000 one-character lines, 100 kinds 40 times each: below difflib's junk heuristic."""
    lines = [chr(0x4E00 + i) + "\n" for i in range(100)] * 40
    random.Random(seed).shuffle(lines)
    return lines


def test_a_line_comparison_past_the_budget_is_marked_as_one_block_between_the_common_ends():
    old, new = "".join(shuffled_lines(1)), "".join(shuffled_lines(2))  # 16 million line pairs
    html = inline_diff(f"title\n{old}the end\n", f"title\n{new}the end\n")
    assert html == f"title\n<del>{old}</del><ins>{new}</ins>the end\n"


def test_a_long_text_changed_in_one_line_is_compared_line_by_line():
    lines = shuffled_lines(1)
    edited = lines[:2000] + ["新\n"] + lines[2001:]
    html = inline_diff("".join(lines), "".join(edited))
    assert html == "".join(lines[:2000]) + f"<del>{lines[2000].strip()}</del><ins>新</ins>\n" + "".join(lines[2001:])
