"""Suite declarations: what is accepted, and every refusal names its field."""
import pytest
from django.core.exceptions import ValidationError

from evaluation import lmeval, suite_spec
from models_hub import demo_dataset

FILES = {"a.jsonl", "b.csv"}


def parse(text: str, files=FILES):
    return suite_spec.parse(suite_spec.declaration(eval_yaml=text, readme=None), files=files)


def refused_field(text: str, files=FILES) -> str:
    with pytest.raises(ValidationError) as caught:
        parse(text, files)
    return next(iter(caught.value.message_dict))


def test_the_demo_suite_parses_with_all_three_task_types():
    files = demo_dataset.files()
    suite = parse(files["eval.yaml"].decode(), set(files))
    assert [t.type for t in suite.tasks] == ["generate", "generate", "multiple_choice", "perplexity", "perplexity"]
    assert suite.tasks[0].until == ("\n",) and suite.tasks[0].metrics == ("bleu", "chrf")


def test_the_card_front_matter_can_declare_the_suite():
    readme = ("---\nlicense: mit\neval:\n  tasks:\n    - name: t\n      type: perplexity\n      file: a.jsonl\n"
              "---\n# Card\n")
    raw = suite_spec.declaration(eval_yaml=None, readme=readme)
    assert suite_spec.parse(raw, files=FILES, default_title="Mine").title == "Mine"


def test_eval_yaml_wins_over_the_card():
    readme = "---\neval:\n  tasks: []\n---\n"
    eval_yaml = "tasks:\n  - {name: t, type: perplexity, file: a.jsonl}\n"
    assert suite_spec.declaration(eval_yaml=eval_yaml, readme=readme)["tasks"][0]["name"] == "t"


def test_a_card_without_an_eval_key_declares_nothing():
    assert suite_spec.declaration(eval_yaml=None, readme="---\nlicense: mit\n---\n") is None


@pytest.mark.parametrize("text,field", [
    ("tasks: []", "tasks"),
    ("tasks:\n  - {name: t, type: essay, file: a.jsonl}", "tasks[0].type"),
    ("tasks:\n  - {name: T!, type: perplexity, file: a.jsonl}", "tasks[0].name"),
    ("tasks:\n  - {name: t, type: perplexity, file: missing.jsonl}", "tasks[0].file"),
    ("tasks:\n  - {name: t, type: perplexity, file: ../a.jsonl}", "tasks[0].file"),
    ("tasks:\n  - {name: t, type: perplexity, file: a.jsonl, metrics: [bleu]}", "tasks[0].metrics"),
    ("tasks:\n  - {name: t, type: generate, file: a.jsonl, target: en}", "tasks[0].prompt"),
    ("tasks:\n  - {name: t, type: generate, file: a.jsonl, prompt: p, target: en, max_tokens: \"\u00b2\"}",
     "tasks[0].max_tokens"),
    ("tasks:\n  - {name: t, type: generate, file: a.jsonl, prompt: p, target: en, max_tokens: " + "9" * 5000 + "}",
     "tasks[0].max_tokens"),
    ("tasks:\n  - {name: t, type: generate, file: a.jsonl, prompt: p, target: en, max_tokens: 9999}",
     "tasks[0].max_tokens"),
    ("tasks:\n  - {name: t, type: generate, file: a.jsonl, prompt: p, target: en, until: []}", "tasks[0].until"),
    ("tasks:\n  - {name: t, type: multiple_choice, file: a.jsonl, prompt: p, target: y}", "tasks[0].choices"),
    ("tasks:\n  - {name: t, type: perplexity, file: a.jsonl, prompt: p}", "tasks[0].prompt"),
    ("tasks:\n  - {name: t, type: perplexity, file: a.jsonl}\n  - {name: t, type: perplexity, file: b.csv}",
     "tasks[1].name"),
    ("tasks:\n  - {name: t, type: perplexity, file: a.jsonl}\nextra: 1", "extra"),
    ("tasks: &x [1]\nmore: *x", "eval"),
    ("tasks: [unclosed", "eval"),
    ("- just a list", "eval"),
])
def test_a_bad_declaration_is_refused_naming_the_field(text, field):
    assert refused_field(text) == field


@pytest.mark.parametrize("prompt", [
    "{{ lipsum.__globals__.os.popen('id').read() }}",
    "{{ q | upper }}",
    "{% for x in range(9) %}x{% endfor %}",
    "{{ q }} and a lone {{",
    "{# a comment #}{{q}}",
    "{{q}}}}",
])
def test_a_prompt_with_more_than_field_placeholders_is_refused(prompt):
    text = f"tasks:\n  - name: t\n    type: generate\n    file: a.jsonl\n    prompt: {prompt!r}\n    target: en"
    assert refused_field(text) == "tasks[0].prompt"


def test_a_prompt_with_field_placeholders_is_accepted():
    suite = parse("tasks:\n  - {name: t, type: generate, file: a.jsonl, prompt: 'Q: {{ q }}\\nA: {{a_2}}', "
                  "target: en}")
    assert suite.tasks[0].prompt.startswith("Q: {{ q }}")


def test_a_stored_suite_with_an_unsafe_prompt_never_reaches_lm_eval(tmp_path):
    task = suite_spec.TaskSpec(name="t", type="generate", file="a.jsonl", metrics=("bleu",),
                               prompt="{{ cycler.__init__.__globals__ }}", target="en")
    with pytest.raises(ValueError):
        lmeval.task_config(task, tmp_path)


def test_task_configs_point_at_the_exported_files(tmp_path):
    suite = parse("tasks:\n  - {name: t, type: multiple_choice, file: b.csv, prompt: 'Q: {{q}}', choices: c, "
                  "target: y}")
    config = lmeval.task_config(suite.tasks[0], tmp_path)
    assert config["dataset_path"] == "csv"
    assert config["dataset_kwargs"]["data_files"]["test"] == str(tmp_path / "b.csv")
    assert config["output_type"] == "multiple_choice"
    assert [m["metric"] for m in config["metric_list"]] == ["acc", "acc_norm"]


def test_token_perplexity_is_ours_not_lm_evals(tmp_path):
    suite = parse("tasks:\n  - {name: t, type: perplexity, file: a.jsonl, metrics: [token_perplexity]}")
    config = lmeval.task_config(suite.tasks[0], tmp_path)
    assert config["output_type"] == "loglikelihood_rolling"
    assert [m["metric"] for m in config["metric_list"]] == ["byte_perplexity"]


def test_the_demo_sentences_agree_with_their_subjects():
    english = {row["en"] for row in demo_dataset.translation_pairs()}
    assert {"I am reading a book.", "You have two cats.", "The children are waiting at the station.",
            "My friend has two cats.", "I like green tea."} <= english
    assert not {s for s in english if s.startswith(("I is", "I likes", "You is", "You goes", "The children has"))}
