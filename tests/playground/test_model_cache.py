"""Two processes (or threads) that need the same repository at once, as two workers starting on a
fresh machine do, fetch it once: the second waits for the first and reads what it wrote."""
import threading
import time

import pytest

from playground.engine.loading import materialise
from playground.engine.runtime import RuntimeSpec

SHA = "a" * 40
SPEC = RuntimeSpec(source="repo", location="model/acme/tiny", revision=SHA)


def test_concurrent_loads_fetch_a_repository_once(tmp_path):
    fetches = []

    def slow_fetch(location: str, revision: str, into) -> None:
        fetches.append(revision)
        time.sleep(0.3)  # long enough for the other thread to arrive while this one writes
        (into / "config.json").write_text("{}")

    results = []
    threads = [threading.Thread(target=lambda: results.append(
        materialise(SPEC, cache_dir=tmp_path, fetch_repo=slow_fetch))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert fetches == [SHA]
    assert results == [tmp_path / "repos" / SHA] * 2
    assert (results[0] / "config.json").read_text() == "{}"


def test_a_failed_fetch_leaves_nothing_and_the_next_load_fetches_again(tmp_path):
    def failing_fetch(location, revision, into) -> None:
        (into / "half.bin").write_bytes(b"x")
        raise OSError("connection reset")

    with pytest.raises(OSError):
        materialise(SPEC, cache_dir=tmp_path, fetch_repo=failing_fetch)
    assert [p for p in (tmp_path / "repos").iterdir() if p.is_dir()] == []  # no half-written files

    target = materialise(SPEC, cache_dir=tmp_path,
                         fetch_repo=lambda location, revision, into: (into / "config.json").write_text("{}"))
    assert (target / "config.json").exists()
