"""Parquet made to decode to gigabytes is refused by a sandbox with a memory cap, not decoded in
the web process: in the dataset viewer and in a fine-tune's training file."""
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import parquet

ROWS, VALUE_BYTES = 16, 64 * 1024 * 1024  # one 64 MB dictionary value, 16 rows: 1 GB decoded


def bomb() -> bytes:
    """A few hundred kilobytes: the dictionary holds the value once, every row points at it."""
    column = pa.DictionaryArray.from_arrays(pa.array([0] * ROWS, pa.int32()), pa.array(["a" * VALUE_BYTES]))
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": column}), buffer, compression="zstd")
    return buffer.getvalue()


@pytest.fixture
def small_sandbox(settings):
    settings.PARQUET_MEMORY_BYTES = 1024**3
    parquet._reader.stop()  # started again with this cap
    yield
    parquet._reader.stop()


def test_the_sandbox_reads_an_honest_file(tmp_path):
    path = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), path)
    table = parquet.read(str(path), offset=1, limit=1)
    assert table.columns == [("a", "int64"), ("b", "string")] and table.num_rows == 3 and table.rows == [{"a": 2, "b": "y"}]


def test_a_bomb_runs_out_of_memory_in_the_sandbox_and_the_next_read_works(tmp_path, small_sandbox):
    path = tmp_path / "bomb.parquet"
    path.write_bytes(bomb())
    with pytest.raises(parquet.ParquetError) as refused:
        parquet.read(str(path))
    assert refused.value.reason == "memory"
    assert parquet.read(str(path), columns=[], limit=1).num_rows == ROWS


@pytest.mark.django_db
def test_the_dataset_viewer_says_a_bomb_is_too_large(client, user, small_sandbox):
    from models_hub import services
    from tests.models_hub.repo_helpers import commit

    dataset = services.save_resource(user=user, data={"kind": "dataset", "name": "d", "title": "D"})
    commit(dataset, user, {"data.parquet": bomb()})
    page = client.get(f"{dataset.get_absolute_url()}viewer/").content.decode()
    assert "too large to preview" in page


@pytest.mark.django_db
def test_a_training_file_that_is_a_bomb_is_refused_naming_train_file(small_sandbox, settings):
    from django.core.exceptions import ValidationError

    from finetune.datasets import check_dataset
    from tests.finetune.conftest import make_dataset

    keys = 'train_format: text\ntrain_file: data/train.parquet\ntrain_text: "{text}"\n'
    dataset = make_dataset("bomb", keys=keys, files={"data/train.parquet": bomb()})
    with pytest.raises(ValidationError) as refused:
        check_dataset(dataset)
    assert "train_file" in str(refused.value) and "too large" in str(refused.value)


def test_the_viewer_gets_cells_cut_in_the_sandbox(tmp_path):
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"text": ["x" * 10_000], "n": [1]}), path)
    table = parquet.read(str(path), cell_chars=300)
    assert table.rows == [["x" * 300 + "…", "1"]]


@pytest.mark.django_db
def test_a_busy_sandbox_is_said_and_not_cached(client, user, monkeypatch):
    from models_hub import services
    from tests.models_hub.repo_helpers import commit

    dataset = services.save_resource(user=user, data={"kind": "dataset", "name": "d", "title": "D"})
    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2]}), buffer)
    commit(dataset, user, {"data.parquet": buffer.getvalue()})
    monkeypatch.setattr(parquet._reader, "call", lambda *a: {"reason": "busy", "error": "No time was left for it."})
    assert "busy" in client.get(f"{dataset.get_absolute_url()}viewer/").content.decode()
    monkeypatch.undo()
    assert "busy" not in client.get(f"{dataset.get_absolute_url()}viewer/").content.decode()
