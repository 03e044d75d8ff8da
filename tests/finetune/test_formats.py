"""The card's training declaration and how rows become examples (no database)."""
import pytest

from finetune.formats import FormatError, TrainSpec, examples, parse_rows, spec_from_card


def test_a_prompt_completion_declaration_becomes_chat_examples():
    spec = spec_from_card({"train_format": "prompt_completion", "train_file": "d.jsonl",
                           "train_prompt": "Translate: {en}", "train_completion": "{zh}"})
    assert examples([{"en": "Hi", "zh": "你好"}], spec) == [
        {"prompt": [{"role": "user", "content": "Translate: Hi"}],
         "completion": [{"role": "assistant", "content": "你好"}]}]


def test_a_template_reads_columns_only_not_attributes():
    spec = TrainSpec(format="text", file="d.jsonl", text="{en.__class__} {en}")
    assert examples([{"en": "x"}], spec) == [{"text": "{en.__class__} x"}]


@pytest.mark.parametrize("meta, key", [
    ({}, "train_format"),
    ({"train_format": "rlhf", "train_file": "d.jsonl"}, "train_format"),
    ({"train_format": "text"}, "train_file"),
    ({"train_format": "text", "train_file": "d.xlsx", "train_text": "{t}"}, "train_file"),
    ({"train_format": "text", "train_file": "d.jsonl", "train_text": "no columns"}, "train_text"),
    ({"train_format": "prompt_completion", "train_file": "d.jsonl", "train_prompt": "{q}"}, "train_completion"),
    ({"train_format": ["text", "messages"], "train_file": "d.jsonl"}, "train_format"),
])
def test_a_bad_declaration_names_its_key(meta, key):
    with pytest.raises(FormatError) as caught:
        spec_from_card(meta)
    assert caught.value.key == key


def test_a_row_without_a_templated_column_names_the_template_key():
    spec = TrainSpec(format="prompt_completion", file="d.jsonl", prompt="{en}", completion="{zh}")
    with pytest.raises(FormatError) as caught:
        examples([{"en": "Hi", "zh": "你好"}, {"en": "Bye"}], spec)
    assert caught.value.key == "train_completion" and "Row 2" in str(caught.value)


@pytest.mark.parametrize("messages", [
    "not a list", [], [{"role": "wizard", "content": "x"}], [{"role": "user", "content": "only a question"}],
])
def test_messages_must_be_a_conversation_ending_with_the_assistant(messages):
    spec = TrainSpec(format="messages", file="d.jsonl", messages="messages")
    with pytest.raises(FormatError) as caught:
        examples([{"messages": messages}], spec)
    assert caught.value.key == "train_messages"


def test_jsonl_and_csv_rows_parse_and_bad_json_names_its_line():
    assert parse_rows(b'{"a": 1}\n\n{"a": 2}\n', "d.jsonl") == [{"a": 1}, {"a": 2}]
    assert parse_rows("en,zh\nHi,你好\n".encode(), "d.csv") == [{"en": "Hi", "zh": "你好"}]
    with pytest.raises(FormatError, match="line 2"):
        parse_rows(b'{"a": 1}\n{oops\n', "d.jsonl")


def test_a_file_head_drops_its_cut_last_line():
    assert parse_rows(b'{"a": 1}\n{"a": 2', "d.jsonl", partial=True) == [{"a": 1}]


def test_a_line_nested_past_the_recursion_limit_is_a_format_error():
    with pytest.raises(FormatError) as refused:
        parse_rows(("[" * 100_000).encode(), "train.jsonl")
    assert refused.value.key == "train_file" and "nested too deeply" in str(refused.value)


def test_a_csv_with_carriage_return_line_ends_parses():
    assert parse_rows(b"en,zh\rHi,Bye\r", "d.csv") == [{"en": "Hi", "zh": "Bye"}]


def test_a_csv_cell_past_the_field_limit_is_a_format_error_naming_the_file():
    with pytest.raises(FormatError) as refused:
        parse_rows(b"text\n" + b"x" * 200_000 + b"\n", "train.csv")
    assert refused.value.key == "train_file" and "train.csv, line" in str(refused.value)
