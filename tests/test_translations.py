from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def test_chinese_catalogue_is_complete():
    po = polib.pofile(str(CATALOGUE))
    assert not po.untranslated_entries()
    assert not po.fuzzy_entries()


def test_placeholders_survive_translation():
    for entry in polib.pofile(str(CATALOGUE)):
        translated = entry.msgstr or entry.msgstr_plural.get(0, "")
        for name in ("%(n)s", "%(n)d", "%(name)s", "%(s)d", "%(model)s", "%(kind)s", "%(repo)s"):
            assert (name in entry.msgid) == (name in translated), entry.msgid
