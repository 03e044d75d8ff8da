"""Repository pages: Files, a file, History, a commit's diffs, the upload form, the dataset viewer."""
import io
import json
import tarfile
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from models_hub import services
from models_hub.repos import reads
from models_hub.repos import views as repo_views
from models_hub.repos.commits import storage_used
from models_hub.repos.models import Blob

from .repo_helpers import commit

pytestmark = pytest.mark.django_db


@pytest.fixture
def repo(user):
    resource = services.save_resource(user=user, data={"kind": "model", "name": "tiny", "title": "Tiny"})
    commit(resource, user, {"config.json": b'{"a": 1}\n', "docs/guide.md": b"# Guide\n\n<script>x</script>**b**\n",
                            "weights.bin": b"\0\1" * 3000})
    return resource


def url(resource, rest=""):
    return f"{resource.get_absolute_url()}{rest}"


def test_files_tab_lists_folders_and_human_sizes(repo, client):
    page = client.get(url(repo, "files/")).content.decode()
    assert "docs" in page and "config.json" in page and "5.9\xa0KB" in page


def test_a_text_file_is_highlighted(repo, client):
    page = client.get(url(repo, "files/main/config.json")).content.decode()
    assert 'class="highlight"' in page and "Download" in page


def test_markdown_is_rendered_and_sanitised(repo, client):
    page = client.get(url(repo, "files/main/docs/guide.md")).content.decode()
    assert "<h1>Guide</h1>" in page and "<strong>b</strong>" in page and "<script>x" not in page


def test_a_long_markdown_file_is_rendered_up_to_the_limit_once(repo, user, client, settings, monkeypatch):
    settings.MARKDOWN_MAX_LENGTH = 40
    commit(repo, user, {"notes.md": b"**bold** " * 10 + b"@alice"})
    renders = []
    real_render = repo_views.markdown.render
    monkeypatch.setattr(repo_views.markdown, "render", lambda *a, **k: renders.append(a[0]) or real_render(*a, **k))
    pages = [client.get(url(repo, "files/main/notes.md")).content.decode() for _ in range(2)]
    assert renders == ["**bold** " * 4 + "**bo"]  # the second read came from the cache
    assert all("Only the first 40 characters are shown" in page and "<strong>bold</strong>" in page for page in pages)
    assert "@alice" not in pages[0]


def test_mentions_in_a_markdown_file_stay_text(repo, user, client):
    commit(repo, user, {"notes.md": b"Thanks @alice"})
    page = client.get(url(repo, "files/main/notes.md")).content.decode()
    assert "Thanks @alice" in page and "/u/alice/" not in page


def test_a_binary_file_is_offered_for_download(repo, client):
    page = client.get(url(repo, "files/main/weights.bin")).content.decode()
    assert "binary or too large" in page and f"/{repo.repo_id}/resolve/" in page


def test_an_old_revision_is_browsable(repo, user, client):
    first = reads.head(repo)
    commit(repo, user, {"config.json": b'{"a": 2}\n'})
    old = client.get(url(repo, f"files/{first.sha}/config.json")).content.decode()
    assert '<span class="mi">1</span>' in old and '<span class="mi">2</span>' not in old
    assert client.get(url(repo, "files/" + "f" * 40 + "/")).status_code == 404


def test_history_and_a_commit_with_its_diff(repo, user, client):
    second = commit(repo, user, {"config.json": b'{"a": 2}\n'}, title="Bump a")
    assert "Bump a" in client.get(url(repo, "commits/")).content.decode()
    page = client.get(url(repo, f"commit/{second.sha}/")).content.decode()
    assert "config.json" in page and "modified" in page and 'class="gd"' in page  # a deleted line


def test_a_commit_past_the_diff_budget_lists_the_rest_without_diffs(repo, user, client, monkeypatch):
    monkeypatch.setattr(reads, "DIFF_BUDGET_BYTES", 25)
    second = commit(repo, user, {"a.txt": b"one line\n", "b.txt": b"another line\n", "c.txt": b"third\n"})
    changes = reads.changes(second)
    assert [(c.path, c.diff is not None, c.over_budget) for c in changes] == [
        ("a.txt", True, False), ("b.txt", True, False), ("c.txt", False, True)]
    assert "changes too much to show every diff" in client.get(url(repo, f"commit/{second.sha}/")).content.decode()


def test_a_file_too_costly_to_compare_line_by_line_is_listed_without_its_diff(repo, user):
    lines = [b"%d\n" % (i % 100) for i in range(4000)]  # 16 million line pairs, none of them junk
    commit(repo, user, {"numbers.txt": b"".join(lines)})
    second = commit(repo, user, {"numbers.txt": b"".join(reversed(lines))})
    assert [(c.path, c.diff, c.over_budget) for c in reads.changes(second)] == [("numbers.txt", None, True)]


@pytest.mark.parametrize("n", [2, 8])
def test_history_query_count_is_flat(repo, user, client, django_assert_max_num_queries, n):
    for i in range(n):
        commit(repo, user, {f"f{i}.txt": str(i).encode()})
    with django_assert_max_num_queries(12):
        assert client.get(url(repo, "commits/")).status_code == 200


@pytest.mark.parametrize("n", [2, 20])
def test_files_query_count_is_flat(repo, user, client, django_assert_max_num_queries, n):
    commit(repo, user, {f"many/f{i}.txt": str(i).encode() for i in range(n)})
    with django_assert_max_num_queries(10):
        assert client.get(url(repo, "files/")).status_code == 200


def test_upload_form_commits_several_files_with_folder_paths(repo, user, client):
    client.force_login(user)
    response = client.post(url(repo, "files/upload/"), {
        "files": [SimpleUploadedFile("a.txt", b"A"), SimpleUploadedFile("b.txt", b"B")],
        "paths": ["set/a.txt", "set/b.txt"], "title": "Two files"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    head = reads.head(repo)
    assert head.title == "Two files" and {"set/a.txt", "set/b.txt"} <= {e.path for e in reads.entries(head)}


def test_upload_form_is_only_for_the_owner_and_moderators(repo, other_user, client):
    client.force_login(other_user)
    assert client.get(url(repo, "files/upload/")).status_code == 403


def test_upload_with_a_traversal_path_is_400_naming_it(repo, user, client):
    client.force_login(user)
    before = reads.head(repo)
    response = client.post(url(repo, "files/upload/"), {"files": [SimpleUploadedFile("x", b"x")],
                                                        "paths": ["../../etc/passwd"]}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "../../etc/passwd" in json.dumps(response.json())
    assert reads.head(repo) == before


def test_upload_over_the_file_limit_is_413_naming_it(repo, user, client, settings):
    settings.HUB_MAX_FILE_BYTES = 10
    client.force_login(user)
    response = client.post(url(repo, "files/upload/"), {"files": [SimpleUploadedFile("big.bin", b"x" * 11)]},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 413 and "big.bin" in json.dumps(response.json())


def _tar_with_symlink() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = tarfile.TarInfo("ok.txt")
        data.size = 2
        archive.addfile(data, io.BytesIO(b"ok"))
        link = tarfile.TarInfo("evil")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    return buffer.getvalue()


def test_an_archive_with_a_symlink_is_refused_naming_it(repo, user, client):
    client.force_login(user)
    before = reads.head(repo)
    response = client.post(url(repo, "files/upload/"), {"files": [SimpleUploadedFile("a.tar", _tar_with_symlink())],
                                                        "extract": "1"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "evil" in json.dumps(response.json())
    assert reads.head(repo) == before


@pytest.mark.parametrize("name", ["broken.zip", "broken.tar.gz"])
def test_a_corrupt_archive_is_refused_naming_it(repo, user, client, name):
    client.force_login(user)
    before = reads.head(repo)
    response = client.post(url(repo, "files/upload/"), {"files": [SimpleUploadedFile(name, b"not an archive at all")],
                                                        "extract": "1"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and name in json.dumps(response.json())
    assert reads.head(repo) == before


def test_an_archive_is_extracted_when_asked(repo, user, client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data/x.txt", "x")
    client.force_login(user)
    response = client.post(url(repo, "files/upload/"), {"files": [SimpleUploadedFile("a.zip", buffer.getvalue())],
                                                        "extract": "1"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert reads.entry(reads.head(repo), "data/x.txt") is not None


def _zip(files: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return SimpleUploadedFile("a.zip", buffer.getvalue())


def test_an_archive_past_the_quota_is_refused_before_its_members_are_stored(repo, user, client, settings):
    settings.HUB_USER_QUOTA_BYTES = storage_used(user) + 1500
    client.force_login(user)
    stored = Blob.objects.count()
    archive = _zip({f"m{i}.bin": bytes([i]) * 1000 for i in range(5)})  # compresses to almost nothing
    response = client.post(url(repo, "files/upload/"), {"files": [archive], "extract": "1"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 413 and "m1.bin" in json.dumps(response.json())
    assert Blob.objects.count() - stored == 1


def test_an_archive_with_more_members_than_a_commit_may_hold_stops_reading(repo, user, client, settings):
    settings.HUB_MAX_FILES_PER_COMMIT = 2
    client.force_login(user)
    stored = Blob.objects.count()
    response = client.post(url(repo, "files/upload/"), {"files": [_zip({f"m{i}": bytes([i]) for i in range(4)})],
                                                        "extract": "1"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and Blob.objects.count() - stored == 2


def test_content_already_stored_does_not_count_against_the_quota_again(repo, user, client, settings):
    settings.HUB_USER_QUOTA_BYTES = storage_used(user) + 10
    client.force_login(user)
    same = reads.entry(reads.head(repo), "weights.bin").blob
    response = client.post(url(repo, "files/upload/"), {"files": [_zip({"a.bin": b"\0\1" * 3000, "b.bin": b"1"})],
                                                        "extract": "1"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 413  # 6000 declared bytes cannot be admitted into 10 left ...
    settings.HUB_USER_QUOTA_BYTES = storage_used(user) + same.size + 10
    response = client.post(url(repo, "files/upload/"), {"files": [_zip({"a.bin": b"\0\1" * 3000, "b.bin": b"y" * 10,
                                                                         "c.bin": b"x" * 10})], "extract": "1"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200  # ... but once admitted, stored content is not charged twice


def test_the_card_page_has_the_tabs(repo, client):
    page = client.get(url(repo)).content.decode()
    assert url(repo, "files/") in page and url(repo, "commits/") in page


def _parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2, 3], "text": ["a", "b", "c"]}), buffer)
    return buffer.getvalue()


def test_the_dataset_viewer_shows_rows_columns_types_and_counts(user, client):
    dataset = services.save_resource(user=user, data={"kind": "dataset", "name": "pairs", "title": "Pairs"})
    commit(dataset, user, {"train.csv": b"en,zh,score\nhello,\xe4\xbd\xa0\xe5\xa5\xbd,1\nbye,\xe5\x86\x8d\xe8\xa7\x81,2\n",
                           "qa.jsonl": b'{"q": "1+1?", "a": 2}\n{"q": "2+2?", "a": 4}\n{"q": "3+3?", "a": 6}\n',
                           "t.parquet": _parquet_bytes()})
    page = client.get(dataset.get_absolute_url()).content.decode()
    assert "Dataset viewer" in page and "你好" in page and "int64" in page
    assert "2 rows" in page and "3 rows" in page and "score" in page and "text" in page


def test_a_readme_shows_its_front_matter_apart_and_resolves_relative_links(repo, user, client):
    commit(repo, user, {"docs/README.md": b"---\nlicense: mit\n---\n# Docs\n\n![curve](img/loss.svg) "
                                          b"[guide](guide.md#setup) [top](../config.json)\n"})
    page = client.get(url(repo, "files/main/docs/README.md")).content.decode()
    assert "<summary>Metadata (YAML front matter)</summary>" in page and "---\nlicense" not in page
    body = page[page.index('<article class="prose card">'):]
    assert "license" not in body and "<h1>Docs</h1>" in body
    assert f'src="/{repo.repo_id}/resolve/main/docs/img/loss.svg"' in body
    assert f'href="{url(repo, "files/main/docs/guide.md")}#setup"' in body
    assert f'href="{url(repo, "files/main/config.json")}"' in body


def test_the_cards_relative_image_loads_from_the_repository(repo, user):
    commit(repo, user, {"README.md": b"---\ntags: [x]\n---\n![curve](./loss_curve.svg)\n"})
    repo.refresh_from_db()
    assert f'src="/{repo.repo_id}/resolve/main/loss_curve.svg"' in repo.card_html


def test_an_upload_past_the_quota_is_413_in_chinese_too(repo, user, client, settings):
    settings.HUB_USER_QUOTA_BYTES = 100
    client.force_login(user)
    response = client.post(url(repo, "files/upload/"), {"files": [SimpleUploadedFile("big.bin", b"x" * 200)]},
                           HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 413 and "配额" in json.dumps(response.json(), ensure_ascii=False)


def test_a_link_no_file_could_have_is_dropped_not_a_500(repo, user, client):
    commit(repo, user, {"notes.md": b"[bad](a%0Ab) [ok](docs/guide.md#%E4%BD%BF%E7%94%A8) [root](./)\n"})
    response = client.get(url(repo, "files/main/notes.md"))
    page = response.content.decode()
    assert response.status_code == 200 and "<a>bad</a>" in page.replace(' rel="nofollow ugc noopener"', "")
    assert f'href="{url(repo, "files/main/docs/guide.md")}#%E4%BD%BF%E7%94%A8"' in page
    assert f'href="{url(repo, "files/main/")}"' in page


def test_a_new_resources_card_points_its_images_at_its_own_files(as_user, user):
    response = as_user.post("/api/v1/resources/", {"kind": "dataset", "name": "pics", "title": "Pics",
                                                   "card": "![fig](fig.png)"}, format="json")
    assert response.status_code == 201, response.json()
    assert f'src="/datasets/{user.username}/pics/resolve/main/fig.png"' in response.json()["card_html"]


def test_a_paper_has_no_files_so_its_relative_links_stay(as_user):
    response = as_user.post("/api/v1/resources/", {"kind": "paper", "name": "p", "title": "P",
                                                   "card": "[see](appendix.md)"}, format="json")
    assert 'href="appendix.md"' in response.json()["card_html"]


def _zip_with_raw_name(name: bytes) -> bytes:
    """A zip whose member name is these bytes without the UTF-8 flag, as Windows' own zip writes."""
    placeholder = b"N" * len(name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(placeholder.decode(), "q,a\n")
    return buffer.getvalue().replace(placeholder, name)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_chinese_names_in_a_zip_without_the_utf8_flag_are_read_as_meant(repo, user, client, encoding):
    data = _zip_with_raw_name("数据/训练.csv".encode(encoding))
    client.force_login(user)
    response = client.post(url(repo, "files/upload/"), {"files": [SimpleUploadedFile("a.zip", data)],
                                                        "extract": "1"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert reads.entry(reads.head(repo), "数据/训练.csv") is not None


def _delete(client, resource, path, parent=None):
    return client.post(url(resource, "files/delete/"), {"path": path, "parent": parent or reads.head(resource).sha})


def test_the_owner_deletes_a_file_from_its_page_in_a_commit(repo, user, client):
    client.force_login(user)
    assert 'name="parent"' in client.get(url(repo, "files/main/config.json")).content.decode()
    response = _delete(client, repo, "config.json")
    head = reads.head(repo)
    assert response.status_code == 302 and response["Location"] == url(repo, f"commit/{head.sha}/")
    assert head.title == "Delete config.json" and head.author == user
    assert reads.entry(head, "config.json") is None and reads.entry(head, "weights.bin") is not None


def test_others_see_no_delete_button_and_may_not_delete(repo, other_user, client):
    assert 'name="parent"' not in client.get(url(repo, "files/main/config.json")).content.decode()
    client.force_login(other_user)
    assert 'name="parent"' not in client.get(url(repo, "files/main/config.json")).content.decode()
    assert _delete(client, repo, "config.json").status_code == 403
    assert reads.entry(reads.head(repo), "config.json") is not None


def test_an_old_revisions_page_offers_no_delete(repo, user, client):
    first = reads.head(repo)
    commit(repo, user, {"config.json": b'{"a": 2}\n'})
    client.force_login(user)
    assert 'name="parent"' not in client.get(url(repo, f"files/{first.sha}/config.json")).content.decode()


def test_deleting_a_file_changed_since_the_page_was_shown_is_a_409(repo, user, client):
    shown = reads.head(repo).sha
    commit(repo, user, {"config.json": b'{"a": 2}\n'})
    client.force_login(user)
    response = _delete(client, repo, "config.json", parent=shown)
    assert response.status_code == 409 and "committed meanwhile" in response.content.decode()
    assert reads.entry(reads.head(repo), "config.json") is not None


@pytest.mark.parametrize("path", ["missing.txt", "", "../config.json", "docs", "a\x00b"])
def test_deleting_a_path_that_is_no_file_is_a_400_naming_it(repo, user, client, path):
    client.force_login(user)
    head = reads.head(repo)
    response = _delete(client, repo, path)
    assert response.status_code == 400 and reads.head(repo) == head
