"""Repositories: commits, revisions, content-addressed storage, paths refused, quota, card = README."""
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from models_hub import services
from models_hub.repos import reads
from models_hub.repos.commits import CommitConflict, QuotaExceeded
from models_hub.repos.models import Blob, Commit
from models_hub.repos.paths import BadPath

from .repo_helpers import commit

pytestmark = pytest.mark.django_db


@pytest.fixture
def repo(user):
    return services.save_resource(user=user, data={"kind": "model", "name": "tiny", "title": "Tiny"})


def test_a_new_model_starts_with_an_initial_commit(repo):
    head = reads.head(repo)
    assert head.title == "Initial commit" and len(head.sha) == 40 and head.parent is None
    assert [e.path for e in reads.entries(head)] == [".gitattributes"]


def test_each_upload_is_a_commit_and_older_revisions_stay_readable(repo, user):
    first = commit(repo, user, {"a.txt": b"one"})
    second = commit(repo, user, {"a.txt": b"two"}, title="Second")
    assert second.parent == first and reads.resolve(repo, "main") == second
    assert reads.entry(reads.resolve(repo, first.sha), "a.txt").blob.sha256 == hashlib.sha256(b"one").hexdigest()
    assert reads.resolve(repo, first.sha[:7]) == first
    with pytest.raises(reads.RevisionNotFound):
        reads.resolve(repo, "f" * 40)


def test_same_content_is_stored_once(repo, user, hub_files):
    commit(repo, user, {"a.bin": b"x" * 1000, "b/c.bin": b"x" * 1000})
    assert Blob.objects.filter(sha256=hashlib.sha256(b"x" * 1000).hexdigest()).count() == 1
    stored = [p for p in hub_files.rglob("*") if p.is_file()]
    assert sum(1 for p in stored if p.name == hashlib.sha256(b"x" * 1000).hexdigest()) == 1


def test_an_unchanged_commit_is_not_recorded(repo, user):
    first = commit(repo, user, {"a.txt": b"one"})
    assert commit(repo, user, {"a.txt": b"one"}) == first


def test_deletion_of_a_missing_file_is_refused_naming_it(repo, user):
    with pytest.raises(BadPath, match="nope.txt"):
        commit(repo, user, deletions=["nope.txt"])


@pytest.mark.parametrize("path", ["../etc/passwd", "/abs.txt", "a/../b", "nul\0byte", "a//b", "x/", "a\\b",
                                  "n" * 300, ".git/config"])
def test_bad_paths_are_refused_naming_the_path(repo, user, path):
    with pytest.raises(BadPath) as info:
        commit(repo, user, {path: b"x"})
    assert info.value.path == path and repr(path) in info.value.message_dict["path"][0]
    assert Commit.objects.filter(resource=repo).count() == 1


@pytest.mark.parametrize("first,second", [("Readme.txt", "README.TXT"), ("file.txt", "\ufb01le.txt")])
def test_names_differing_only_by_case_or_compatibility_form_are_refused(repo, user, first, second):
    commit(repo, user, {first: b"1"})
    with pytest.raises(BadPath, match="only by case"):
        commit(repo, user, {second: b"2"})


def test_two_spellings_of_one_unicode_name_in_one_upload_are_refused(repo, user):
    with pytest.raises(BadPath, match="normalised"):
        commit(repo, user, {"caf\u00e9.txt": b"1", "cafe\u0301.txt": b"2"})


def test_a_decomposed_name_updates_the_composed_file(repo, user):
    commit(repo, user, {"caf\u00e9.txt": b"1"})
    head = commit(repo, user, {"cafe\u0301.txt": b"2"})
    assert [e.path for e in reads.entries(head)] == [".gitattributes", "caf\u00e9.txt"]


def test_a_file_cannot_also_be_a_folder(repo, user):
    commit(repo, user, {"a": b"1"})
    with pytest.raises(BadPath, match="'a'"):
        commit(repo, user, {"a/b": b"2"})


def test_only_the_owner_or_a_moderator_commits(repo, other_user, staff):
    with pytest.raises(PermissionDenied):
        commit(repo, other_user, {"a": b"1"})
    assert commit(repo, staff, {"a": b"1"}).author == staff


def test_a_stale_parent_is_a_conflict(repo, user):
    first = commit(repo, user, {"a": b"1"})
    commit(repo, user, {"a": b"2"})
    with pytest.raises(CommitConflict):
        commit(repo, user, {"a": b"3"}, parent_sha=first.sha)


def test_quota_counts_distinct_blobs_and_names_the_path(repo, user, settings):
    settings.HUB_USER_QUOTA_BYTES = 3000
    commit(repo, user, {"a.bin": b"a" * 900})
    commit(repo, user, {"copy.bin": b"a" * 900})  # the same bytes again cost nothing
    with pytest.raises(QuotaExceeded, match="big.bin"):
        commit(repo, user, {"big.bin": b"b" * 2500})


def test_editing_the_card_commits_readme(repo, user):
    services.save_resource(user=user, data={"card": "---\nlicense: mit\n---\n# Hi\n"}, resource=repo)
    head = reads.head(repo)
    assert head.title == "Update README.md"
    assert reads.readable_text(reads.entry(head, "README.md").blob, 10_000) == "---\nlicense: mit\n---\n# Hi\n"


def test_committing_readme_updates_the_card_and_metadata(repo, user):
    commit(repo, user, {"README.md": b"---\nlicense: apache-2.0\npipeline_tag: text-generation\n---\n# Card\n"})
    repo.refresh_from_db()
    assert repo.license == "apache-2.0" and repo.task == "text-generation" and "<h1>Card</h1>" in repo.card_html
    assert Commit.objects.filter(resource=repo).count() == 2  # the card did not commit again


def test_a_readme_with_bad_front_matter_leaves_no_commit(repo, user):
    with pytest.raises(ValidationError):
        commit(repo, user, {"README.md": b"---\nlicense: [unclosed\n---\nx"})
    assert Commit.objects.filter(resource=repo).count() == 1


def test_diff_of_a_text_file(repo, user):
    commit(repo, user, {"a.txt": b"one\ntwo\n"})
    second = commit(repo, user, {"a.txt": b"one\nthree\n", "w.bin": b"\0\1\2"})
    changes = {c.path: c for c in reads.changes(second)}
    assert changes["a.txt"].status == "modified" and "-two" in changes["a.txt"].diff
    assert changes["w.bin"].status == "added" and changes["w.bin"].diff is None


def test_papers_hold_no_files(user):
    paper = services.save_resource(user=user, data={"kind": "paper", "name": "p", "title": "P"})
    assert reads.head(paper) is None


def test_seed_makes_repositories_once(db, hub_files):
    from django.core.management import call_command

    from models_hub.models import Resource

    call_command("seed_demo")
    smollm = Resource.objects.get(repo_id="HuggingFaceTB/SmolLM2-135M-Instruct")
    dataset = Resource.objects.get(kind="dataset", repo_id="community/bilingual-demo")
    commits = Commit.objects.count()
    call_command("seed_demo")
    assert Commit.objects.count() == commits
    paths = {e.path: e.blob for e in reads.entries(reads.head(smollm))}
    assert {"README.md", ".gitattributes", "SmolLM2-135M-Instruct.Q4_1.gguf"} <= set(paths)
    assert paths["SmolLM2-135M-Instruct.Q4_1.gguf"].size > 90_000_000
    data = {e.path for e in reads.entries(reads.head(dataset))}
    assert {"data/translation.jsonl", "data/translation.csv", "data/qa.jsonl", "README.md"} <= data
    assert "zh" in dataset.languages
