"""Blobs no commit holds: the bytes of uploads never committed (a push abandoned, or a member
storing past their quota, which counts committed blobs only).

Every worker sweeps them in a thread (core.reaper, every HUB_SWEEP_EVERY_S), once an upload last
claimed them more than HUB_LFS_URL_TTL_S + HUB_BLOB_GRACE_S ago: an upload stores or finds its
content, then commits it well within its URL's lifetime. Each blob goes under its content's lock
(storage.lock_content), which an upload of the same content takes too, and with the database
checking at once that no commit holds it: its bytes are deleted only once its row is."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core import reaper

from . import lfs
from .models import Blob
from .storage import hub_storage, lock_content

log = logging.getLogger(__name__)
BATCH = 500  # blobs looked at per sweep; the next sweep takes the rest


def sweep_unreferenced_blobs() -> int:
    """Remove the blobs no commit holds that no upload has claimed lately; returns how many went."""
    cutoff = timezone.now() - timedelta(seconds=settings.HUB_LFS_URL_TTL_S + settings.HUB_BLOB_GRACE_S)
    unclaimed = Blob.objects.filter(claimed_at__lt=cutoff, entries__isnull=True)
    swept = 0
    for pk, sha256 in unclaimed.values_list("pk", "sha256")[:BATCH]:
        try:
            with transaction.atomic():
                lock_content(sha256)
                # Not claimed or committed meanwhile; locked, so a claim (storage.has_content, which
                # takes no content lock) waits for this sweep, then finds the row gone.
                blob = unclaimed.filter(pk=pk).select_for_update(of=("self",)).first()
                if blob is None:
                    continue
                if connection.vendor == "postgresql":  # a commit holding it fails the delete here,
                    with connection.cursor() as cursor:  # not at the end, after the bytes are gone
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                blob.delete()
                hub_storage().delete(blob.storage_key)
        except (ProtectedError, IntegrityError):
            continue  # a commit took it up meanwhile: it stays
        swept += 1
    if swept:
        log.info("swept %d blobs no commit holds", swept)
    lfs.forget_old()
    return swept


def start(sender=None, **kwargs) -> None:
    """worker_ready receiver: this worker's sweep thread."""
    reaper.start_thread("hub-blob-sweep", [sweep_unreferenced_blobs], lambda: settings.HUB_SWEEP_EVERY_S)
