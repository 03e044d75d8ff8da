"""Bytes in and out of STORAGES["hub"], in chunks: nothing holds a whole file in memory.

Incoming content is copied to a temporary file while its sha256 and git blob id are computed,
then linked (filesystem) or streamed (object storage) to `blobs/<sha256>`. A key is written once:
the same content uploaded again only finds its blob.
"""
from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import locks

from .models import Blob, blob_key

CHUNK_BYTES = 1024 * 1024


def hub_storage() -> Storage:
    return storages["hub"]


def is_local(storage: Storage | None = None) -> bool:
    """True when the storage is a directory this process can open files in."""
    storage = storage or hub_storage()
    try:
        storage.path("x")
    except NotImplementedError:
        return False
    return True


class TooLarge(ValidationError):
    """The content passed a size limit; the message names the path."""


@dataclass
class Spooled:
    """Content copied to a temporary file, with its hashes."""
    path: Path
    size: int
    sha256: str
    git_oid: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def spool(stream: BinaryIO, *, size: int, label: str, max_bytes: int | None = None) -> Spooled:
    """Copy exactly `size` bytes of `stream` to a temporary file, hashing on the way. A stream
    that ends early or runs long is refused, and nothing is left behind."""
    limit = settings.HUB_MAX_FILE_BYTES if max_bytes is None else max_bytes
    if size > limit:
        raise TooLarge({"path": [_("%(path)r is %(size)d bytes; the limit is %(limit)d.")
                                 % {"path": label, "size": size, "limit": limit}]})
    sha256 = hashlib.sha256()
    git = hashlib.sha1(b"blob %d\0" % size)
    fd, name = tempfile.mkstemp(prefix="upload-", dir=settings.HUB_UPLOAD_TMP_DIR)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK_BYTES)
                if not chunk:
                    break
                written += len(chunk)
                if written > size:
                    break
                sha256.update(chunk)
                git.update(chunk)
                out.write(chunk)
        if written != size:
            raise ValidationError({"path": [_("%(path)r: expected %(size)d bytes, received %(got)s.")
                                            % {"path": label, "size": size,
                                               "got": written if written <= size else _("more")}]})
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Spooled(path=Path(name), size=size, sha256=sha256.hexdigest(), git_oid=git.hexdigest())


def spool_bytes(data: bytes, *, label: str) -> Spooled:
    """Small content already in memory (inline commit files, a card)."""
    return spool(io.BytesIO(data), size=len(data), label=label)


def store(spooled: Spooled) -> Blob:
    """The blob for this content, stored if it was not yet, and claimed (so the sweep leaves it
    until a commit can hold it); the temporary file is consumed.

    The bytes are written with no transaction open: to object storage that can take minutes,
    and a pooled connection must not sit idle in a transaction meanwhile. Only the claim goes
    under the content's lock, briefly; the bytes are written again there in the rare case that
    a sweep removed them (with an old row of the same content) between the write and the lock."""
    try:
        blob = has_content(spooled.sha256)
        if blob is not None:
            return blob  # stored already: claimed afresh, nothing to write
        key = blob_key(spooled.sha256)
        _write(spooled, key)
        with transaction.atomic():
            lock_content(spooled.sha256)  # the sweep cannot remove it between the look and the claim
            if not hub_storage().exists(key):
                _write(spooled, key)
            blob, created = Blob.objects.get_or_create(
                sha256=spooled.sha256, defaults={"git_oid": spooled.git_oid, "size": spooled.size})
            if not created:
                Blob.objects.filter(pk=blob.pk).update(claimed_at=timezone.now())
            return blob
    finally:
        spooled.discard()


def _write(spooled: Spooled, key: str) -> None:
    """Put the spooled bytes under `key`; the spooled file stays, for a second write. A key only
    ever appears whole: a hard link (no copy) on a local storage, one upload to object storage."""
    storage = hub_storage()
    if not is_local(storage):
        with spooled.path.open("rb") as fh:
            storage.save(key, File(fh, name=key))
        return
    target = Path(storage.path(key))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(spooled.path, target)
    except FileExistsError:
        return  # the same content, stored by another upload meanwhile
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # another file system
        os.close(fd)
        try:
            shutil.copyfile(spooled.path, partial)
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)
    os.chmod(target, 0o644)


def has_content(sha256: str) -> Blob | None:
    """The blob with this sha256 when its bytes are really in the storage, claimed afresh: an
    upload that finds its content already here commits it next, so the sweep must leave it."""
    blob = Blob.objects.filter(sha256=sha256).first()
    if blob is None or not Blob.objects.filter(pk=blob.pk).update(claimed_at=timezone.now()):
        return None  # none, or swept just now
    return blob if hub_storage().exists(blob.storage_key) else None


def lock_content(sha256: str) -> None:
    """Inside a transaction: hold this content against every other store or sweep of it until
    the transaction ends."""
    locks.hold(f"blob:{sha256}")


def iter_bytes(blob: Blob, start: int = 0, end: int | None = None, *, chunk_bytes: int = CHUNK_BYTES
               ) -> Iterator[bytes]:
    """The bytes start..end (inclusive) of a blob, in chunks of at most `chunk_bytes`."""
    end = blob.size - 1 if end is None else end
    if end < start:
        return
    storage = hub_storage()
    if is_local(storage):
        with open(storage.path(blob.storage_key), "rb") as fh:
            fh.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = fh.read(min(chunk_bytes, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        return
    # Object storage: a ranged GET, read in chunks (S3File would buffer the whole object).
    body = storage.bucket.Object(storage._normalize_name(blob.storage_key)).get(
        Range=f"bytes={start}-{end}")["Body"]
    try:
        yield from body.iter_chunks(chunk_bytes)
    finally:
        body.close()


def read_head(blob: Blob, max_bytes: int) -> bytes:
    """The first `max_bytes` of a blob (previews, the dataset viewer)."""
    if blob.size == 0:
        return b""
    return b"".join(iter_bytes(blob, 0, min(blob.size, max_bytes) - 1))


def copy_to(blob: Blob, target: Path) -> None:
    """Write a blob to a local file, atomically (a partial file never has the final name)."""
    partial = target.with_name(target.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as out:
        for chunk in iter_bytes(blob):
            out.write(chunk)
    os.replace(partial, target)


def download_url(blob: Blob, *, filename: str) -> str | None:
    """A pre-signed object-storage URL for the blob, or None when the web process serves it."""
    storage = hub_storage()
    if is_local(storage) or not settings.HUB_S3_REDIRECT:
        return None
    return storage.url(blob.storage_key, parameters={
        "ResponseContentDisposition": f'attachment; filename="{os.path.basename(filename)}"'})


@contextmanager
def local_file(blob: Blob, *, max_copy_bytes: int) -> Iterator[str]:
    """The path of a local file with the blob's bytes, for a reader that seeks (Parquet keeps its
    index at the end) or another process: its own on local storage, else a temporary copy of at
    most `max_copy_bytes` (TooLarge beyond)."""
    storage = hub_storage()
    if is_local(storage):
        yield storage.path(blob.storage_key)
        return
    if blob.size > max_copy_bytes:
        raise TooLarge({"path": [_("%(size)d bytes is too large to read here.") % {"size": blob.size}]})
    with tempfile.NamedTemporaryFile(prefix="blob-") as tmp:
        for chunk in iter_bytes(blob):
            tmp.write(chunk)
        tmp.flush()
        yield tmp.name
