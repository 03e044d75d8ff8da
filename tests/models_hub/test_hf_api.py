"""The HF-compatible endpoints' contract, through Django's test client (fast; the real client is
in test_hf_client.py)."""
import base64
import hashlib
import json
import re

import pytest
from django.test import Client

from core.services import create_token
from models_hub import services
from models_hub.repos import reads
from models_hub.repos.models import Blob
from models_hub.repos.commits import storage_used
from tests.factories import UserFactory

from .repo_helpers import commit

pytestmark = pytest.mark.django_db
DATA = bytes(range(256)) * 100


@pytest.fixture
def repo(user):
    resource = services.save_resource(user=user, data={"kind": "model", "name": "tiny", "title": "Tiny"})
    commit(resource, user, {"data/blob.bin": DATA, "a.txt": b"hello"})
    return resource


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {create_token(user=user, name='hf')[1]}"}


def test_head_carries_commit_etag_and_size_and_no_xet_header(repo, client: Client):
    response = client.head(f"/{repo.repo_id}/resolve/main/data/blob.bin")
    head = reads.head(repo)
    assert response.status_code == 200
    assert response["X-Repo-Commit"] == head.sha and response["Content-Length"] == str(len(DATA))
    git_oid = hashlib.sha1(b"blob %d\0" % len(DATA) + DATA).hexdigest()
    assert response["ETag"] == f'"{git_oid}"'
    assert not any(h.lower().startswith("x-xet") for h in response.headers)


def test_get_range_resumes_with_206(repo, client: Client):
    response = client.get(f"/{repo.repo_id}/resolve/main/data/blob.bin", HTTP_RANGE="bytes=25000-")
    assert response.status_code == 206 and response["Content-Range"] == f"bytes 25000-{len(DATA) - 1}/{len(DATA)}"
    with pytest.warns(Warning, match="asynchronous iterators"):  # the sync test client drains it
        assert b"".join(response) == DATA[25000:]


def test_unsatisfiable_range_is_416(repo, client: Client):
    response = client.get(f"/{repo.repo_id}/resolve/main/a.txt", HTTP_RANGE="bytes=99-")
    assert response.status_code == 416 and response["Content-Range"] == "bytes */5"


@pytest.mark.parametrize("url,code", [
    ("/acme/nope/resolve/main/a.txt", "RepoNotFound"),
    ("/{repo}/resolve/{bad}/a.txt", "RevisionNotFound"),
    ("/{repo}/resolve/main/missing.txt", "EntryNotFound"),
])
def test_head_errors_carry_x_error_code(repo, client: Client, url, code):
    response = client.head(url.format(repo=repo.repo_id, bad="f" * 40))
    assert response.status_code == 404 and response["X-Error-Code"] == code


def test_missing_entry_names_the_commit(repo, client: Client):
    response = client.head(f"/{repo.repo_id}/resolve/main/missing.txt")
    assert response["X-Repo-Commit"] == reads.head(repo).sha


def test_tree_is_recursive_with_lfs_details(repo, client: Client, settings):
    settings.HUB_REGULAR_UPLOAD_MAX_BYTES = 1000
    items = client.get(f"/api/models/{repo.repo_id}/tree/main?recursive=true").json()
    by_path = {i["path"]: i for i in items}
    assert by_path["data"]["type"] == "directory"
    assert by_path["data/blob.bin"]["lfs"]["oid"] == hashlib.sha256(DATA).hexdigest()
    assert "lfs" not in by_path["a.txt"]


def test_a_missing_folder_is_entry_not_found(repo, client: Client):
    response = client.get(f"/api/models/{repo.repo_id}/tree/main/nowhere")
    assert response.status_code == 404 and response["X-Error-Code"] == "EntryNotFound"


def test_writing_to_someone_elses_repo_is_403(repo, other_user, client: Client):
    response = client.post(f"/api/models/{repo.repo_id}/preupload/main", {"files": []},
                           content_type="application/json", **bearer(other_user))
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/./b", "x\u0000y"])
def test_inline_commit_with_a_bad_path_is_400_naming_it(repo, user, client: Client, path):
    lines = [{"key": "header", "value": {"summary": "bad"}},
             {"key": "file", "value": {"path": path, "content": base64.b64encode(b"x").decode(),
                                       "encoding": "base64"}}]
    response = client.post(f"/api/models/{repo.repo_id}/commit/main", "\n".join(map(json.dumps, lines)),
                           content_type="application/x-ndjson", **bearer(user))
    assert response.status_code == 400 and repr(path)[1:-1] in response.json()["error"]
    assert reads.head(repo).title == "Upload"


def test_a_commit_naming_an_unuploaded_lfs_object_leaves_nothing(repo, user, client: Client):
    lines = [{"key": "header", "value": {"summary": "x"}},
             {"key": "file", "value": {"path": "ok.txt", "content": "b2s=", "encoding": "base64"}},
             {"key": "lfsFile", "value": {"path": "big.bin", "algo": "sha256", "oid": "0" * 64, "size": 9}}]
    response = client.post(f"/api/models/{repo.repo_id}/commit/main", "\n".join(map(json.dumps, lines)),
                           content_type="application/x-ndjson", **bearer(user))
    assert response.status_code == 400 and "big.bin" in response.json()["error"]
    assert reads.head(repo).title == "Upload"


def test_preupload_refuses_a_file_over_the_limit_naming_it(repo, user, client: Client, settings):
    settings.HUB_MAX_FILE_BYTES = 100
    response = client.post(f"/api/models/{repo.repo_id}/preupload/main",
                           {"files": [{"path": "big.bin", "size": 101, "sample": ""}]},
                           content_type="application/json", **bearer(user))
    assert response.status_code == 413 and "big.bin" in response.json()["error"]


def test_lfs_put_needs_a_valid_signature(client: Client):
    response = client.put("/hub-lfs/forged-token/", b"x", content_type="application/octet-stream")
    assert response.status_code == 403


def test_lfs_put_with_wrong_content_is_refused_and_stores_nothing(repo, user, client: Client, hub_files):
    oid = hashlib.sha256(b"right").hexdigest()
    batch = client.post(f"/{repo.repo_id}.git/info/lfs/objects/batch",
                        {"operation": "upload", "objects": [{"oid": oid, "size": 5}]},
                        content_type="application/json", **bearer(user)).json()
    href = batch["objects"][0]["actions"]["upload"]["href"]
    response = client.put(href.split("testserver", 1)[1], b"wrong", content_type="application/octet-stream")
    assert response.status_code == 400
    assert not any(p.name == oid for p in hub_files.rglob("*"))


def test_upload_paths_take_bodies_past_the_regular_cap(settings):
    from core.middleware import body_limit_for

    assert body_limit_for("/hub-lfs/abc/") == settings.MAX_UPLOAD_BYTES
    assert body_limit_for("/api/models/a/b/commit/main") == settings.MAX_UPLOAD_BYTES
    assert body_limit_for("/api/v1/resources/") == settings.MAX_REQUEST_BODY_BYTES


@pytest.mark.parametrize("n", [3, 12])
def test_listing_query_count_is_flat(user, client: Client, django_assert_max_num_queries, n):
    for i in range(n):
        services.save_resource(user=user, data={"kind": "model", "name": f"m{i}", "title": "M"})
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/models?author=" + user.username).json()) == n


def test_a_members_repository_in_any_script_serves_files_with_odd_names(client: Client):
    member = UserFactory(username="张三")
    resource = services.save_resource(user=member, data={"kind": "model", "name": "tiny", "title": "Tiny"})
    commit(resource, member, {"notes/v1#draft?.txt": b"odd", "config.json": b"{}"})
    page = client.get(f"{resource.get_absolute_url()}files/main/notes/v1%23draft%3F.txt").content.decode()
    link = re.search(r'href="([^"]+)" download', page).group(1)
    assert link.startswith("/%E5%BC%A0%E4%B8%89/tiny/resolve/") and link.endswith("/notes/v1%23draft%3F.txt")
    response = client.get(link)
    assert response.status_code == 200
    with pytest.warns(Warning, match="asynchronous iterators"):  # the sync test client drains it
        assert b"".join(response) == b"odd"
    info = client.get("/api/models/张三/tiny").json()
    assert info["id"] == "张三/tiny" and {s["rfilename"] for s in info["siblings"]} >= {"notes/v1#draft?.txt"}


def test_a_members_drafts_are_listed_to_them_as_private_and_to_no_one_else(user, client: Client):
    services.save_resource(user=user, data={"kind": "model", "name": "public", "title": "P"})
    draft = services.save_resource(user=user, data={"kind": "model", "name": "draft", "title": "D"})
    draft.__class__.objects.filter(pk=draft.pk).update(is_published=False)
    mine = client.get(f"/api/models?author={user.username}", **bearer(user)).json()
    assert sorted((m["id"].split("/")[1], m["private"]) for m in mine) == [("draft", True), ("public", False)]
    for viewer in ({}, bearer(UserFactory())):
        assert [m["id"] for m in client.get(f"/api/models?author={user.username}", **viewer).json()] == [
            f"{user.username}/public"]


@pytest.mark.parametrize("path", ["/api/models/{owner}/{name}", "/{owner}/{name}/resolve/main/README.md"])
def test_a_bad_token_is_refused_alike_whether_or_not_a_draft_exists(user, client: Client, path):
    draft = services.save_resource(user=user, data={"kind": "model", "name": "secret", "title": "S"})
    draft.__class__.objects.filter(pk=draft.pk).update(is_published=False)
    statuses = {client.get(path.format(owner=user.username, name=name), HTTP_AUTHORIZATION="Bearer nope").status_code
                for name in ("secret", "no-such-model")}
    assert statuses == {401}


@pytest.mark.parametrize("path,served", [
    ("x.html", "text/plain; charset=utf-8"),
    ("page.htm", "text/plain; charset=utf-8"),
    ("a.js", "text/plain; charset=utf-8"),
    ("x.xhtml", "application/octet-stream"),
    ("x.pdf", "application/octet-stream"),
    ("logo.png", "image/png"),
    ("config.json", "application/json"),
])
def test_a_file_is_never_served_as_a_page(user, client: Client, path, served):
    resource = services.save_resource(user=user, data={"kind": "model", "name": "pages", "title": "Pages"})
    commit(resource, user, {path: b"<script>alert(document.cookie)</script>"})
    response = client.head(f"/{resource.repo_id}/resolve/main/{path}")
    assert response["Content-Type"] == served
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_a_published_file_at_a_commit_is_cached_publicly(repo, client: Client):
    sha = reads.head(repo).sha
    assert "public" in client.head(f"/{repo.repo_id}/resolve/{sha}/a.txt")["Cache-Control"]
    assert client.head(f"/{repo.repo_id}/resolve/main/a.txt")["Cache-Control"] == "no-cache"


def test_a_drafts_file_is_never_cached_by_a_shared_cache(repo, user, client: Client):
    repo.is_published = False
    repo.save(update_fields=["is_published"])
    client.force_login(user)
    response = client.head(f"/{repo.repo_id}/resolve/{reads.head(repo).sha}/a.txt")
    assert response.status_code == 200 and response["Cache-Control"].startswith("private")


def test_filters_combine_over_tags_and_task_and_license(user, client: Client):
    services.save_resource(user=user, data={"kind": "model", "name": "both", "title": "B", "task": "text-generation",
                                            "tags": ["chinese", "chat"], "license": "mit"})
    services.save_resource(user=user, data={"kind": "model", "name": "chat-only", "title": "C", "tags": ["chat"]})
    ids = lambda query: sorted(m["id"].split("/")[1] for m in client.get(f"/api/models?{query}").json())  # noqa: E731
    assert ids("filter=chat") == ["both", "chat-only"]
    assert ids("filter=chat&filter=text-generation&filter=license:mit") == ["both"]
    assert ids("filter=chat&filter=chat&filter=chinese") == ["both"]  # one row each, however many tags match


def test_too_many_filters_are_refused(client: Client):
    query = "&".join(f"filter=t{i}" for i in range(11))
    response = client.get(f"/api/models?{query}")
    assert response.status_code == 400 and "filter" in response.json()["error"]


@pytest.mark.parametrize("lines", [
    [{"value": {"summary": "no key"}}],
    [{"key": "header", "value": {"summary": "x"}}, {"key": "file", "value": {"path": "a.txt", "content": 5}}],
    [{"key": "header", "value": {"summary": "x", "parentCommit": 1}}],
    [{"key": "header", "value": {"summary": "nul \u0000 here"}}],
    [{"key": "header", "value": {"summary": ["x"]}}],
])
def test_a_malformed_commit_line_is_400_and_commits_nothing(repo, user, client: Client, lines):
    response = client.post(f"/api/models/{repo.repo_id}/commit/main", "\n".join(map(json.dumps, lines)),
                           content_type="application/x-ndjson", **bearer(user))
    assert response.status_code == 400
    assert reads.head(repo).title == "Upload"


def inline_lines(count: int, size: int) -> str:
    lines = [{"key": "header", "value": {"summary": "x"}}] + [
        {"key": "file", "value": {"path": f"f{i}.bin", "content": base64.b64encode(bytes([i]) * size).decode()}}
        for i in range(count)]
    return "\n".join(map(json.dumps, lines))


def test_an_inline_commit_over_the_quota_stores_none_of_it(repo, user, client: Client, settings):
    settings.HUB_USER_QUOTA_BYTES = storage_used(user) + 250
    blobs = Blob.objects.count()
    response = client.post(f"/api/models/{repo.repo_id}/commit/main", inline_lines(3, 100),
                           content_type="application/x-ndjson", **bearer(user))
    assert response.status_code == 413 and "f2.bin" in response.json()["error"]
    assert Blob.objects.count() == blobs + 2  # the third was refused before it was stored


def test_an_inline_commit_with_too_many_files_stops_at_the_limit(repo, user, client: Client, settings):
    settings.HUB_MAX_FILES_PER_COMMIT = 2
    blobs = Blob.objects.count()
    response = client.post(f"/api/models/{repo.repo_id}/commit/main", inline_lines(5, 10),
                           content_type="application/x-ndjson", **bearer(user))
    assert response.status_code == 400 and "at most 2 files" in response.json()["error"]
    assert Blob.objects.count() == blobs + 2


@pytest.mark.parametrize("step", ["preupload", "commit"])
def test_a_pull_request_is_refused_rather_than_committed_to_main(repo, user, client: Client, step):
    head = reads.head(repo).sha
    body = {"files": []} if step == "preupload" else inline_lines(1, 10)
    response = client.post(f"/api/models/{repo.repo_id}/{step}/main?create_pr=1", body,
                           content_type="application/json" if step == "preupload" else "application/x-ndjson",
                           **bearer(user))
    assert response.status_code == 400 and "create_pr" in response.json()["error"]
    assert reads.head(repo).sha == head


def test_lfs_batch_answers_each_malformed_object(repo, user, client: Client):
    response = client.post(f"/{repo.repo_id}.git/info/lfs/objects/batch",
                           {"operation": "upload", "objects": ["x", None, 3]},
                           content_type="application/json", **bearer(user))
    assert response.status_code == 200
    assert [o["error"]["code"] for o in response.json()["objects"]] == [422, 422, 422]


def test_lfs_batch_counts_its_objects_together_against_the_quota(repo, user, client: Client, settings):
    settings.HUB_USER_QUOTA_BYTES = storage_used(user) + 150
    objects = [{"oid": hashlib.sha256(bytes([i])).hexdigest(), "size": 100} for i in range(2)]
    answer = client.post(f"/{repo.repo_id}.git/info/lfs/objects/batch", {"operation": "upload", "objects": objects},
                         content_type="application/json", **bearer(user)).json()["objects"]
    assert "actions" in answer[0] and answer[1]["error"]["code"] == 413


def test_paths_info_with_a_nul_in_a_path_finds_nothing(repo, client: Client):
    response = client.post(f"/api/models/{repo.repo_id}/paths-info/main", {"paths": ["a\u0000b", "a.txt"]})
    assert response.status_code == 200 and [p["path"] for p in response.json()] == ["a.txt"]


def downloads_of(resource) -> int:
    resource.refresh_from_db()
    return resource.downloads


def test_a_download_counts_once_per_client_however_many_files(repo, client: Client):
    client.head(f"/{repo.repo_id}/resolve/main/a.txt")
    client.get(f"/{repo.repo_id}/resolve/main/a.txt")
    client.head(f"/{repo.repo_id}/resolve/main/data/blob.bin")
    assert downloads_of(repo) == 1
    Client(REMOTE_ADDR="203.0.113.9").head(f"/{repo.repo_id}/resolve/main/a.txt")
    assert downloads_of(repo) == 2


def test_the_card_and_its_images_are_not_downloads(user, client: Client):
    resource = services.save_resource(user=user, data={"kind": "model", "name": "pictured", "title": "P"})
    commit(resource, user, {"loss.png": b"\x89PNG", "curve.svg": b"<svg/>"})
    for path in ("README.md", "loss.png", "curve.svg", ".gitattributes"):
        client.head(f"/{resource.repo_id}/resolve/main/{path}")
    assert downloads_of(resource) == 0


def test_the_hf_list_reports_and_sorts_by_downloads(user, client: Client):
    quiet = services.save_resource(user=user, data={"kind": "model", "name": "quiet", "title": "Q"})
    popular = services.save_resource(user=user, data={"kind": "model", "name": "popular", "title": "P"})
    type(popular).objects.filter(pk=popular.pk).update(downloads=42)
    listed = client.get(f"/api/models?author={user.username}&sort=downloads").json()
    assert [(m["id"], m["downloads"]) for m in listed] == [(popular.repo_id, 42), (quiet.repo_id, 0)]


def test_whoami_names_the_tokens_member(client: Client):
    member = UserFactory(username="ada", display_name="Ada Lovelace")
    response = client.get("/api/whoami-v2", **bearer(member))
    assert (response.json()["name"], response.json()["fullname"]) == ("ada", "Ada Lovelace")
    assert client.get("/api/whoami-v2").status_code == 401
