"""Repositories on S3-compatible object storage (django-storages), against a real S3-protocol
server process: moto's threaded server on a free port."""
import hashlib

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from core.services import create_token
from models_hub import services
from models_hub.repos import reads
from models_hub.repos.storage import hub_storage, iter_bytes, is_local
from tests.factories import UserFactory

from .hub_live import HubServer, run_client
from .repo_helpers import commit

BUCKET = "hub-test"
DATA = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def s3_options(endpoint: str) -> dict:
    return {"bucket_name": BUCKET, "endpoint_url": endpoint, "access_key": "testing", "secret_key": "testing",
            "region_name": "us-east-1", "addressing_style": "path", "signature_version": "s3v4",
            "file_overwrite": True}


@pytest.fixture
def s3_hub(settings, s3_endpoint):
    settings.STORAGES = {**settings.STORAGES, "hub": {"BACKEND": "storages.backends.s3.S3Storage",
                                                      "OPTIONS": s3_options(s3_endpoint)}}
    return s3_endpoint


@pytest.mark.django_db
def test_blobs_are_stored_in_the_bucket_and_read_by_range(s3_hub, user):
    repo = services.save_resource(user=user, data={"kind": "model", "name": "s3", "title": "S3"})
    head = commit(repo, user, {"w.bin": DATA})
    blob = reads.entry(head, "w.bin").blob
    assert not is_local() and hub_storage().exists(blob.storage_key)
    assert b"".join(iter_bytes(blob, 1000, 1999)) == DATA[1000:2000]


@pytest.mark.django_db
def test_resolve_redirects_to_a_presigned_url_that_serves_ranges(s3_hub, user, client):
    repo = services.save_resource(user=user, data={"kind": "model", "name": "s3r", "title": "S3"})
    commit(repo, user, {"w.bin": DATA})
    response = client.get(f"/{repo.repo_id}/resolve/main/w.bin")
    assert response.status_code == 302 and response["Location"].startswith(s3_hub)
    assert response["X-Linked-Size"] == str(len(DATA)) and response["X-Repo-Commit"] == reads.head(repo).sha
    part = requests.get(response["Location"], headers={"Range": "bytes=10-19"}, timeout=10)
    assert part.status_code == 206 and part.content == DATA[10:20]


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_the_hf_client_uploads_and_downloads_through_object_storage(s3_endpoint, tmp_path):
    user = UserFactory(username="bob")
    key = create_token(user=user, name="hf")[1]
    env = {"HUB_S3_BUCKET": BUCKET, "HUB_S3_ENDPOINT_URL": s3_endpoint, "HUB_S3_ACCESS_KEY": "testing",
           "HUB_S3_SECRET_KEY": "testing", "HUB_REGULAR_UPLOAD_MAX_BYTES": "100000"}
    server = HubServer(tmp_path, extra_env=env).start()
    try:
        big = tmp_path / "w.bin"
        big.write_bytes(DATA)
        result = run_client(server.base_url, f"""
            from huggingface_hub import HfApi, hf_hub_download
            api = HfApi()
            api.create_repo("bob/on-s3")
            api.upload_file(path_or_fileobj={str(big)!r}, path_in_repo="w.bin", repo_id="bob/on-s3")
            path = hf_hub_download("bob/on-s3", "w.bin")
            print(json.dumps({{"sha": __import__("hashlib").sha256(open(path, "rb").read()).hexdigest()}}))
        """, token=key, home=tmp_path, env={"HF_HUB_DISABLE_XET": "1"})
    finally:
        server.stop()
    assert result["sha"] == hashlib.sha256(DATA).hexdigest()
    objects = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing",
                           aws_secret_access_key="testing", region_name="us-east-1").list_objects_v2(Bucket=BUCKET)
    assert f"blobs/{result['sha'][:2]}/{result['sha'][2:4]}/{result['sha']}" in {o["Key"] for o in objects["Contents"]}
