"""A repository's LFS objects are its own: knowing a stored file's hash is no way to commit it,
and upload URLs granted but not yet committed hold their share of the quota."""
import hashlib
import json
from datetime import timedelta

import pytest
from django.test import Client

from models_hub import services
from models_hub.repos import lfs, reads
from models_hub.repos.commits import storage_used
from models_hub.repos.models import LfsGrant
from tests.factories import UserFactory
from tests.models_hub.repo_helpers import commit
from tests.models_hub.test_hf_api import bearer

pytestmark = pytest.mark.django_db
SECRET = b"the weights of a draft nobody else may see" * 10
OID = hashlib.sha256(SECRET).hexdigest()


@pytest.fixture
def victims_draft():
    owner = UserFactory(username="alice")
    draft = services.save_resource(user=owner, data={"kind": "model", "name": "secret", "title": "S"})
    commit(draft, owner, {"weights.bin": SECRET})
    draft.__class__.objects.filter(pk=draft.pk).update(is_published=False)
    return draft


@pytest.fixture
def attacker():
    member = UserFactory(username="mallory")
    return member, services.save_resource(user=member, data={"kind": "model", "name": "copy", "title": "C"})


def batch(client, resource, user, objects):
    return client.post(f"/{resource.repo_id}.git/info/lfs/objects/batch", {"operation": "upload", "objects": objects},
                       content_type="application/json", **bearer(user)).json()["objects"]


def commit_lfs(client, resource, user, oid, size):
    lines = [{"key": "header", "value": {"summary": "copy"}},
             {"key": "lfsFile", "value": {"path": "weights.bin", "algo": "sha256", "oid": oid, "size": size}}]
    return client.post(f"/api/models/{resource.repo_id}/commit/main", "\n".join(map(json.dumps, lines)),
                       content_type="application/x-ndjson", **bearer(user))


def test_a_hash_of_someone_elses_file_gets_an_upload_url_not_a_free_pass(client: Client, victims_draft, attacker):
    member, repository = attacker
    [answer] = batch(client, repository, member, [{"oid": OID, "size": len(SECRET)}])
    assert "upload" in answer["actions"]  # as if it were not stored: nothing tells that it is


def test_a_hash_alone_does_not_commit_someone_elses_file(client: Client, victims_draft, attacker):
    member, repository = attacker
    response = commit_lfs(client, repository, member, OID, len(SECRET))
    assert response.status_code == 400
    assert "weights.bin" not in {e.path for e in reads.entries(reads.head(repository))}


def test_sending_the_bytes_proves_holding_them(client: Client, victims_draft, attacker):
    member, repository = attacker
    [answer] = batch(client, repository, member, [{"oid": OID, "size": len(SECRET)}])
    href = answer["actions"]["upload"]["href"].split("testserver", 1)[1]
    assert client.put(href, SECRET, content_type="application/octet-stream").status_code == 200
    assert commit_lfs(client, repository, member, OID, len(SECRET)).status_code == 200
    assert not LfsGrant.objects.filter(user=member).exists()  # committed: counted as a file now


def test_the_owner_commits_their_own_file_again_without_uploading(client: Client, victims_draft):
    owner = victims_draft.submitter
    [answer] = batch(client, victims_draft, owner, [{"oid": OID, "size": len(SECRET)}])
    assert "actions" not in answer


def test_granted_urls_hold_their_share_of_the_quota_across_batches(client: Client, attacker, settings):
    member, repository = attacker
    settings.HUB_USER_QUOTA_BYTES = storage_used(member) + 150
    first = batch(client, repository, member, [{"oid": hashlib.sha256(b"1").hexdigest(), "size": 100}])
    second = batch(client, repository, member, [{"oid": hashlib.sha256(b"2").hexdigest(), "size": 100}])
    assert "actions" in first[0] and second[0]["error"]["code"] == 413


def test_grants_past_their_urls_and_grace_hold_nothing_and_are_forgotten(attacker, settings):
    member, _repository = attacker
    lfs.grant(user=member, sizes={"a" * 64: 100})
    assert lfs.pending_bytes(member) == 100
    expired = timedelta(seconds=settings.HUB_LFS_URL_TTL_S + settings.HUB_BLOB_GRACE_S + 1)
    LfsGrant.objects.update(created_at=LfsGrant.objects.get().created_at - expired)
    assert lfs.pending_bytes(member) == 0 and lfs.forget_old() == 1


def test_verify_says_nothing_of_content_the_caller_does_not_hold(client: Client, victims_draft, attacker):
    member, repository = attacker
    [answer] = batch(client, repository, member, [{"oid": OID, "size": len(SECRET)}])
    verify = answer["actions"]["verify"]["href"].split("testserver", 1)[1]
    assert client.post(verify, **bearer(member)).status_code == 404


def test_a_batch_holds_at_most_a_hundred_objects(client: Client, attacker):
    member, repository = attacker
    objects = [{"oid": hashlib.sha256(str(i).encode()).hexdigest(), "size": 1} for i in range(101)]
    response = client.post(f"/{repository.repo_id}.git/info/lfs/objects/batch",
                           {"operation": "upload", "objects": objects}, content_type="application/json", **bearer(member))
    assert response.status_code == 400 and not LfsGrant.objects.exists()


def test_only_the_empty_file_has_size_zero(client: Client, attacker):
    member, repository = attacker
    answers = batch(client, repository, member, [{"oid": "a" * 64, "size": 0},
                                                 {"oid": hashlib.sha256(b"").hexdigest(), "size": 0}])
    assert answers[0]["error"]["code"] == 422 and "actions" in answers[1]
