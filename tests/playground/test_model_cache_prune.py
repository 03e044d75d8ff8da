"""The model cache's copies of repositories (one directory per revision) stay within their
budget: the least recently used go first, never one used lately, and a copy pruned is written
again when a job wants it."""
import fcntl
import os
import time
from pathlib import Path

from playground import reaper
from playground.engine import RuntimeSpec
from playground.engine import loading
from playground.engine.loading import materialise, prune_repos

HOUR = 3600


def revision(n: int) -> str:
    return f"{n:040x}"


def fetcher(size: int):
    def fetch(location: str, rev: str, target: Path) -> None:
        (target / "model.safetensors").write_bytes(b"w" * size)
    return fetch


def cached(cache_dir: Path, n: int, *, size: int = 1000, used_hours_ago: float = 2.0) -> Path:
    directory = materialise(RuntimeSpec(source="repo", location="model/acme/m", revision=revision(n)),
                            cache_dir=cache_dir, fetch_repo=fetcher(size))
    used_at = time.time() - used_hours_ago * HOUR
    os.utime(directory / ".complete", (used_at, used_at))
    return directory


def test_the_least_recently_used_go_until_the_rest_fit(tmp_path):
    oldest = cached(tmp_path, 1, used_hours_ago=5)
    older = cached(tmp_path, 2, used_hours_ago=4)
    newer = cached(tmp_path, 3, used_hours_ago=3)
    assert prune_repos(tmp_path, max_bytes=1500, min_idle_s=HOUR) == [revision(1), revision(2)]
    assert not oldest.exists() and not older.exists() and newer.exists()


def test_nothing_goes_within_the_budget(tmp_path):
    cached(tmp_path, 1, used_hours_ago=100)
    assert prune_repos(tmp_path, max_bytes=10_000, min_idle_s=HOUR) == []


def test_a_copy_used_lately_stays_though_over_budget(tmp_path):
    in_use = cached(tmp_path, 1, size=5000, used_hours_ago=0.1)
    assert prune_repos(tmp_path, max_bytes=1000, min_idle_s=HOUR) == []
    assert in_use.exists()


def test_using_a_copy_again_keeps_it(tmp_path):
    cached(tmp_path, 1, used_hours_ago=5)
    cached(tmp_path, 2, used_hours_ago=4)
    materialise(RuntimeSpec(source="repo", location="model/acme/m", revision=revision(1)),
                cache_dir=tmp_path, fetch_repo=fetcher(1000))  # a job loads it now
    assert prune_repos(tmp_path, max_bytes=1500, min_idle_s=HOUR) == [revision(2)]


def test_a_pruned_copy_is_written_again_when_wanted(tmp_path):
    cached(tmp_path, 1, used_hours_ago=5)
    prune_repos(tmp_path, max_bytes=0, min_idle_s=HOUR)
    again = cached(tmp_path, 1, used_hours_ago=0)
    assert (again / "model.safetensors").read_bytes() == b"w" * 1000


def test_what_a_killed_writer_left_goes_but_not_a_fetch_under_way(tmp_path):
    left = tmp_path / "repos" / f"{revision(9)}.partial-123"
    being_written = tmp_path / "repos" / f"{revision(8)}.partial-456"
    for partial in (left, being_written):
        partial.mkdir(parents=True)
    with open(tmp_path / "repos" / f"{revision(8)}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as materialise holds it while it fetches
        prune_repos(tmp_path, max_bytes=10**9, min_idle_s=HOUR)
    assert not left.exists() and being_written.exists()


def test_a_read_only_cache_filled_beforehand_is_used_as_it_is(tmp_path, monkeypatch):
    directory = cached(tmp_path, 1)
    monkeypatch.setattr(loading.os, "access", lambda path, mode: False)  # mounted read-only
    monkeypatch.setattr(loading, "_locked", None)  # no lock file can be made there
    again = materialise(RuntimeSpec(source="repo", location="model/acme/m", revision=revision(1)),
                        cache_dir=tmp_path, fetch_repo=fetcher(1))
    assert again == directory and (again / "model.safetensors").read_bytes() == b"w" * 1000


def test_every_worker_prunes_by_the_settings(tmp_path, settings):
    settings.MODEL_CACHE_DIR = str(tmp_path)
    settings.MODEL_CACHE_REPOS_MAX_BYTES, settings.MODEL_CACHE_REPOS_MIN_IDLE_S = 1500, HOUR
    cached(tmp_path, 1, used_hours_ago=5)
    kept = cached(tmp_path, 2, used_hours_ago=0.5)
    assert reaper.prune_model_cache() == [revision(1)]
    assert kept.exists()


def test_a_read_only_cache_is_not_pruned(tmp_path, monkeypatch):
    cached(tmp_path, 1, used_hours_ago=5)
    monkeypatch.setattr(loading.os, "access", lambda path, mode: False)  # mounted read-only
    assert prune_repos(tmp_path, max_bytes=0, min_idle_s=HOUR) == []
