"""Inline diffs of edits: words marked inside changed lines, big rewrites marked whole."""
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
