"""What a file path inside a repository may be. Every refusal names the path."""
from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_PATH_BYTES = 1000
MAX_SEGMENT_BYTES = 255
RESERVED_SEGMENTS = {".", "..", ".git"}


class BadPath(ValidationError):
    """A path that a repository refuses; `path` is what the client sent."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__({"path": [f"{path!r}: {message}"]})


def clean_path(path: str) -> str:
    """The path in NFC, or BadPath: no traversal, no absolute path, no NUL or control characters,
    no backslashes, no empty or overlong segments."""
    if not isinstance(path, str) or not path:
        raise BadPath(str(path), _("A file path is required."))
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise BadPath(path, _("Control characters (NUL included) are not allowed in a path."))
    if "\\" in path:
        raise BadPath(path, _("Use '/' to separate folders; '\\' is not allowed."))
    if path.startswith("/"):
        raise BadPath(path, _("Paths are relative to the repository; an absolute path is not allowed."))
    normalised = unicodedata.normalize("NFC", path)
    if len(normalised.encode()) > MAX_PATH_BYTES:
        raise BadPath(path, _("The path is longer than %(n)d bytes.") % {"n": MAX_PATH_BYTES})
    for segment in normalised.split("/"):
        if not segment:
            raise BadPath(path, _("A path may not have empty segments or end with '/'."))
        if segment in RESERVED_SEGMENTS:
            raise BadPath(path, _("'%(s)s' is not allowed in a path.") % {"s": segment})
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise BadPath(path, _("A file or folder name is longer than %(n)d bytes.") % {"n": MAX_SEGMENT_BYTES})
    return normalised


def fold(path: str) -> str:
    """The key under which two paths count as the same name: case and Unicode form folded."""
    return unicodedata.normalize("NFKC", path).casefold()


def check_collisions(paths: list[str]) -> None:
    """Refuse paths that differ only by case or Unicode normalisation, and a file that is also
    a folder (`a` and `a/b`). `paths` is the whole tree after the commit."""
    seen: dict[str, str] = {}
    for path in paths:
        key = fold(path)
        other = seen.get(key)
        if other is not None and other != path:
            raise BadPath(path, _("It differs from %(other)r only by case or Unicode normalisation.")
                          % {"other": other})
        seen[key] = path
    folded = set(seen)
    for key, path in seen.items():
        parts = key.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in folded:
                raise BadPath(path, _("%(folder)r is a file, so it cannot also be a folder.")
                              % {"folder": "/".join(path.split("/")[:i])})
