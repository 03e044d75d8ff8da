"""Blobs no commit holds are swept once no upload has claimed them for a while; nothing else is."""
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from models_hub import services
from models_hub.repos.models import Blob
from models_hub.repos.storage import has_content, hub_storage
from models_hub.repos.sweep import sweep_unreferenced_blobs

from tests.concurrency import started

from .repo_helpers import blob, commit

pytestmark = pytest.mark.django_db


def unclaimed_for_long(stored: Blob) -> Blob:
    Blob.objects.filter(pk=stored.pk).update(claimed_at=timezone.now() - timedelta(days=1))
    return stored


def gone(stored: Blob) -> bool:
    return not Blob.objects.filter(pk=stored.pk).exists() and not hub_storage().exists(stored.storage_key)


def test_an_upload_never_committed_is_swept_with_its_bytes():
    orphan = unclaimed_for_long(blob(b"uploaded, never committed"))
    assert sweep_unreferenced_blobs() >= 1
    assert gone(orphan)


def test_what_a_commit_holds_and_what_was_just_uploaded_stay(user):
    repo = services.save_resource(user=user, data={"kind": "model", "name": "kept", "title": "Kept"})
    head = commit(repo, user, {"weights.bin": b"committed bytes"})
    held = unclaimed_for_long(head.entries.get(path="weights.bin").blob)
    fresh = blob(b"uploaded a moment ago")
    sweep_unreferenced_blobs()
    assert not gone(held) and not gone(fresh)


def test_content_an_upload_finds_already_stored_is_claimed_again():
    found = unclaimed_for_long(blob(b"uploaded long ago, found again by a push"))
    assert has_content(found.sha256) is not None  # the LFS batch answers: no need to upload it
    sweep_unreferenced_blobs()
    assert not gone(found)


def test_content_uploaded_again_after_its_sweep_is_stored_again():
    first = unclaimed_for_long(blob(b"swept, then wanted after all"))
    sweep_unreferenced_blobs()
    assert gone(first)
    again = blob(b"swept, then wanted after all")
    assert has_content(again.sha256) is not None and hub_storage().exists(again.storage_key)



@pytest.mark.django_db(transaction=True)
def test_a_claim_racing_the_sweep_never_gets_a_blob_the_sweep_removes(monkeypatch):
    """An upload finds its content (has_content claims it) just as the sweep is about to delete
    it: either the claim comes first and the blob stays, or the sweep does and the claim finds
    nothing, so the upload stores the bytes again. Never a claimed blob that is then gone."""
    racing = unclaimed_for_long(blob(b"found by a push as the sweep ran"))
    claimed, errors = [], []
    delete = Blob.delete

    def claim_meanwhile(self, *args, **kwargs):
        thread = started(lambda: claimed.append(has_content(racing.sha256)), errors)
        thread.join(timeout=1)  # it waits for the sweep's lock, or claims at once
        return delete(self, *args, **kwargs)

    monkeypatch.setattr(Blob, "delete", claim_meanwhile)
    sweep_unreferenced_blobs()
    monkeypatch.undo()
    deadline = time.monotonic() + 10
    while not claimed and not errors and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not errors and claimed
    assert claimed[0] is None or not gone(racing)
