"""Storing an upload's bytes: written with no transaction open, claimed under the content's lock,
and written again where a sweep removed them in between."""
import errno
from pathlib import Path

import pytest
from django.db import connection

from models_hub.repos import storage
from models_hub.repos.models import Blob

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def writes(monkeypatch):
    """Each write of bytes to the storage: whether a transaction was open during it."""
    seen = []
    write = storage._write

    def recording(spooled, key):
        seen.append(connection.in_atomic_block)
        write(spooled, key)

    monkeypatch.setattr(storage, "_write", recording)
    return seen


def test_the_bytes_are_written_with_no_transaction_open(writes):
    blob = storage.store(storage.spool_bytes(b"a large file, on its way to object storage", label="f"))
    assert writes == [False]
    assert b"".join(storage.iter_bytes(blob)) == b"a large file, on its way to object storage"


def test_content_stored_already_is_claimed_without_a_write(writes):
    first = storage.store(storage.spool_bytes(b"the same bytes twice", label="f"))
    again = storage.store(storage.spool_bytes(b"the same bytes twice", label="f"))
    assert again.pk == first.pk and writes == [False]


def test_bytes_a_sweep_removed_before_the_claim_are_written_again(monkeypatch):
    write = storage._write
    calls = []

    def swept_after_the_first(spooled, key):
        write(spooled, key)
        calls.append(key)
        if len(calls) == 1:
            storage.hub_storage().delete(key)  # as a sweep of an old row of this content does

    monkeypatch.setattr(storage, "_write", swept_after_the_first)
    blob = storage.store(storage.spool_bytes(b"swept while on its way", label="f"))
    assert len(calls) == 2
    assert b"".join(storage.iter_bytes(blob)) == b"swept while on its way"
    assert Blob.objects.filter(sha256=blob.sha256).count() == 1


def test_the_spooled_file_is_gone_once_stored(tmp_path):
    spooled = storage.spool_bytes(b"temporary", label="f")
    storage.store(spooled)
    assert not spooled.path.exists()


def test_bytes_are_copied_whole_where_the_uploads_lie_on_another_file_system(monkeypatch):
    def across_file_systems(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(storage.os, "link", across_file_systems)
    blob = storage.store(storage.spool_bytes(b"from another disk", label="f"))
    assert b"".join(storage.iter_bytes(blob)) == b"from another disk"
    assert not [p for p in Path(storage.hub_storage().path(blob.storage_key)).parent.iterdir() if p.name.startswith(".")]
