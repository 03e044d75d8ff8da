"""The Chinese catalogue is whole: every entry translated, and every string the code and the
templates mark for translation has an entry (else a Chinese reader meets English)."""
import ast
import os
import re
from pathlib import Path

import polib
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
SKIPPED = {".venv", "var", "tests", "bench", "migrations", "node_modules", "staticfiles"}  # as makemessages -i
# gettext's names and where their message id is: the first argument, or the second after a context.
MARKERS = {"_": 0, "_lazy": 0, "gettext": 0, "gettext_lazy": 0, "ngettext": 0, "ngettext_lazy": 0,
           "pgettext": 1, "pgettext_lazy": 1, "npgettext": 1, "npgettext_lazy": 1}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-z]")


def _catalogue() -> polib.POFile:
    return polib.pofile(str(CATALOGUE))


def _sources(*suffixes: str):
    """The project's files ending in `suffixes`, without descending into what makemessages skips
    (the virtual environment alone holds tens of thousands of files)."""
    for folder, folders, files in os.walk(ROOT):
        folders[:] = [name for name in folders if name not in SKIPPED and not name.startswith(".")]
        yield from (Path(folder) / name for name in files if name.endswith(suffixes))


def _ids(name: str, literals: list[str]):
    """(context, message id) of a gettext-like call, if its arguments reach the message id."""
    at = MARKERS[name]
    if len(literals) > at:
        yield (literals[0] if at else "", literals[at])


def _python_ids(source: str):
    for node in ast.walk(ast.parse(source)):
        name = getattr(node, "func", None) and getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name in MARKERS:
            literals = []
            for arg in node.args:
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    break
                literals.append(arg.value)
            yield from _ids(name, literals)


# What templatize() makes of a template's tags: gettext(u'…'), ngettext(u"…", u'…', count),
# _("…"), … (quoted as Python's repr() quotes: double quotes around an apostrophe).
STRING = r"""[uU]?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
TEMPLATE_CALL = re.compile(rf"\b({'|'.join(MARKERS)})\(((?:\s*{STRING}\s*,?)+)")


def _template_ids(source: str):
    for call in TEMPLATE_CALL.finditer(source):
        yield from _ids(call.group(1), [ast.literal_eval(s) for s in re.findall(STRING, call.group(2))])


def _marked_strings() -> dict[tuple[str, str], str]:
    found = {}
    for path in _sources(".py"):
        found.update((ids, str(path.relative_to(ROOT))) for ids in _python_ids(path.read_text(encoding="utf-8")))
    for path in _sources(".html", ".txt"):
        if "templates" in path.parts:
            template = templatize(path.read_text(encoding="utf-8"), origin=str(path))
            found.update((ids, str(path.relative_to(ROOT))) for ids in _template_ids(template))
    return found


def test_chinese_catalogue_is_complete():
    po = _catalogue()
    assert not po.untranslated_entries()
    assert not po.fuzzy_entries()


def test_every_marked_string_is_in_the_catalogue():
    catalogued = {(entry.msgctxt or "", entry.msgid) for entry in _catalogue() if not entry.obsolete}
    marked = _marked_strings()
    # The scan reads the code, the templates' tags and their blocks, whatever their quotes.
    for sample in [("", "Sampling parameters"), ("", "Model A"), ("", "Invalid token."),
                   ("", "After %(n)s failed attempt, log-ins from this address or for this account are paused.")]:
        assert sample in marked
    missing = {ids: where for ids, where in marked.items() if ids not in catalogued}
    assert not missing, "not in the catalogue (run makemessages, then translate): " + repr(missing)


def test_placeholders_survive_translation():
    for entry in _catalogue():
        source = set(PLACEHOLDER.findall(entry.msgid + " " + (entry.msgid_plural or "")))
        for translated in [entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values():
            assert set(PLACEHOLDER.findall(translated)) == source, entry.msgid
