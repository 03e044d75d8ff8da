"""A dataset may declare a Parquet training file: its rows train as JSON Lines' and CSV's do."""
import io
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError

from finetune.datasets import check_dataset, training_examples

from .conftest import ROWS, make_dataset

pytestmark = pytest.mark.django_db
PARQUET_KEYS = ('train_format: prompt_completion\ntrain_file: data/train.parquet\n'
                'train_prompt: "Translate into Chinese: {en}"\ntrain_completion: "{zh}"\n')
MESSAGES_KEYS = "train_format: messages\ntrain_file: data/chat.parquet\n"


def parquet(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer, row_group_size=7)
    return buffer.getvalue()


def test_a_parquet_file_is_checked_and_read_whole():
    dataset = make_dataset("pq", keys=PARQUET_KEYS, files={"data/train.parquet": parquet(ROWS)})
    checked = check_dataset(dataset)
    rows = training_examples(dataset, checked.revision, checked.spec)
    assert len(rows) == len(ROWS) and rows[0]["prompt"][0]["content"] == "Translate into Chinese: I have 1 cats."


def test_parquet_messages_keep_their_structure():
    chat = [{"messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "Hello"}]}] * 3
    dataset = make_dataset("chat", keys=MESSAGES_KEYS, files={"data/chat.parquet": parquet(chat)})
    checked = check_dataset(dataset)
    assert training_examples(dataset, checked.revision, checked.spec)[0]["messages"][1]["content"] == "Hello"


def test_a_file_that_is_not_parquet_is_refused_naming_train_file():
    dataset = make_dataset("bad", keys=PARQUET_KEYS, files={"data/train.parquet": b"not parquet at all"})
    with pytest.raises(Exception) as caught:
        check_dataset(dataset)
    assert "train_file" in str(caught.value) and "Parquet" in str(caught.value)


def test_a_parquet_file_that_decodes_past_the_limit_is_refused_before_decoding(settings):
    settings.FINETUNE_MAX_DATASET_BYTES = 10_000
    rows = [{"en": f"{i}" + "x" * 5_000, "zh": "y"} for i in range(4)]  # compresses to almost nothing
    dataset = make_dataset("bomb", keys=PARQUET_KEYS, files={"data/train.parquet": parquet(rows)})
    with pytest.raises(ValidationError) as caught:
        check_dataset(dataset)
    assert "decompressed" in str(caught.value)


def test_a_timestamp_column_is_text_in_a_template_not_a_500():
    keys = PARQUET_KEYS.replace('"{zh}"', '"{zh} at {when}"')
    rows = [{"en": "hi", "zh": "你好", "when": datetime(2026, 1, 1)}] * 3
    dataset = make_dataset("ts", keys=keys, files={"data/train.parquet": parquet(rows)})
    checked = check_dataset(dataset)
    assert "2026-01-01" in training_examples(dataset, checked.revision, checked.spec)[0]["completion"][0]["content"]
