"""Folders uploaded as a .zip or .tar(.gz) archive: members are streamed out one at a time;
symlinks, hard links, devices and bad paths are refused with the member's path named."""
from __future__ import annotations

import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from django.utils.translation import gettext as _

from .paths import BadPath, clean_path

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def members(name: str, fileobj: BinaryIO) -> Iterator[tuple[str, int, BinaryIO]]:
    """(path, size, stream) for each regular file of the archive; a file that is not a readable
    archive of its kind (corrupt, truncated, misnamed) is refused naming it, not a 500."""
    try:
        yield from _members(name, fileobj)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BadPath(name, _("Not a readable archive (%(error)s).") % {"error": type(exc).__name__}) from exc


UTF8_FLAG = 0x800


def zip_name(info: zipfile.ZipInfo) -> str:
    """A member's name as it was meant. Without the UTF-8 flag, Python reads the bytes as cp437;
    many tools wrote UTF-8 without setting it, and Chinese Windows writes GBK (GB18030), so
    those are tried first, as `unzip -O` and 7-Zip do."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _members(name: str, fileobj: BinaryIO) -> Iterator[tuple[str, int, BinaryIO]]:
    if name.lower().endswith(".zip"):
        with zipfile.ZipFile(fileobj) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                mode = info.external_attr >> 16
                if mode and (mode & 0o170000) == 0o120000:
                    raise BadPath(zip_name(info), _("Symbolic links are not allowed in an archive."))
                path = clean_path(zip_name(info))
                with archive.open(info) as stream:
                    yield path, info.file_size, stream
        return
    with tarfile.open(fileobj=fileobj, mode="r:*") as archive:
        for info in archive:
            if info.isdir():
                continue
            if info.issym() or info.islnk():
                raise BadPath(info.name, _("Links are not allowed in an archive."))
            if not info.isfile():
                raise BadPath(info.name, _("Only regular files are allowed in an archive."))
            path = clean_path(info.name.removeprefix("./"))
            stream = archive.extractfile(info)
            yield path, info.size, stream
