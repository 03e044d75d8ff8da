"""Letter avatars: the name's first letter on a colour the username picks, the same everywhere."""
from types import SimpleNamespace

from core.templatetags.site import avatar


def member(username: str, shown_name: str = "") -> SimpleNamespace:
    return SimpleNamespace(username=username, shown_name=shown_name or username)


def test_an_avatar_is_the_first_letter_of_the_shown_name():
    assert ">A</span>" in avatar(member("ada", "ada Lovelace"))
    assert ">李</span>" in avatar(member("lihua", "李华"))


def test_a_username_keeps_its_colour_whatever_its_case_or_display_name():
    assert avatar(member("Alice", "A")).split('"')[1] == avatar(member("alice", "Another")).split('"')[1]


def test_a_name_is_escaped_and_the_avatar_hidden_from_screen_readers():
    html = avatar(member("x", "<b>"))
    assert "&lt;" in html and 'aria-hidden="true"' in html
