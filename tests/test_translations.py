"""The Chinese catalogue is whole: every entry translated, and every string the code and the
templates mark for translation has an entry (else a Chinese reader meets English)."""
import ast
import re
from pathlib import Path

import polib
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
APPS = ("community", "config", "core", "evaluation", "finetune", "models_hub", "playground")
# gettext's names and where their message id is: the first argument, or the second after a context.
MARKERS = {"_": 0, "_lazy": 0, "gettext": 0, "gettext_lazy": 0, "ngettext": 0, "ngettext_lazy": 0,
           "pgettext": 1, "pgettext_lazy": 1, "npgettext": 1, "npgettext_lazy": 1}
# What templatize() writes for a {% translate %} or {% blocktranslate %}: gettext(u'…'), ….
TEMPLATE_CALL = re.compile(r"\b((?:n?p?gettext))\(((?:u'(?:[^'\\]|\\.)*'(?:, )?)+)")


def _catalogue() -> polib.POFile:
    return polib.pofile(str(CATALOGUE))


def _call_ids(name: str, args: list) -> tuple[str, str]:
    """(context, message id) of a gettext-like call's literal arguments."""
    at = MARKERS[name]
    return (args[0] if at else "", args[at])


def _python_ids(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        literals = [arg.value for arg in node.args[:MARKERS.get(name, 0) + 1]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if name in MARKERS and len(literals) == MARKERS[name] + 1:
            yield _call_ids(name, literals)


def _template_ids(path: Path):
    for match in TEMPLATE_CALL.finditer(templatize(path.read_text(), origin=str(path))):
        yield _call_ids(match.group(1), list(ast.literal_eval("(" + match.group(2).rstrip(", ") + ",)")))


def _marked_strings() -> dict[tuple[str, str], str]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found.update((ids, str(path.relative_to(ROOT))) for ids in _python_ids(path))
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" not in path.parts:
            found.update((ids, str(path.relative_to(ROOT))) for ids in _template_ids(path))
    return found


def test_chinese_catalogue_is_complete():
    po = _catalogue()
    assert not po.untranslated_entries()
    assert not po.fuzzy_entries()


def test_every_marked_string_is_in_the_catalogue():
    catalogued = {(entry.msgctxt or "", entry.msgid) for entry in _catalogue() if not entry.obsolete}
    marked = _marked_strings()
    assert len(marked) > 500  # the scan reads the code and the templates
    missing = {ids: where for ids, where in marked.items() if ids not in catalogued}
    assert not missing, "not in the catalogue (run makemessages, then translate): " + repr(missing)


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\(\w+\)[sdf]")
    for entry in _catalogue():
        translated = entry.msgstr or entry.msgstr_plural.get(0, "")
        assert set(placeholder.findall(entry.msgid)) == set(placeholder.findall(translated)), entry.msgid
