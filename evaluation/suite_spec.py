"""An evaluation suite as a dataset repository declares it, validated into plain data.

A repository declares its suite in `eval.yaml`, or under an `eval:` key of its card's front
matter (README.md); `eval.yaml` wins when both exist. The YAML is composed into nodes and refused
early when it could cost more than its size (anchors, aliases, deep nesting, too many tasks), as
the card parser does. Every refusal names the field, e.g. `tasks[1].metrics`.

    title: Bilingual demo
    tasks:
      - name: translate_zh_en
        type: generate            # generate | multiple_choice | perplexity
        file: eval/translation.jsonl
        prompt: "中文：{{zh}}\\nEnglish:"
        target: en                # a field of each row
        metrics: [bleu, chrf]     # bleu, chrf, exact_match
        until: ["\\n"]
        max_tokens: 48
      - name: arithmetic
        type: multiple_choice
        file: eval/choice.jsonl
        prompt: "Question: {{question}}\\nAnswer:"
        choices: choices          # a field holding the list of choices
        target: answer            # a field: the right choice's index, or its text
        metrics: [acc, acc_norm]
      - name: text_en
        type: perplexity
        file: eval/text.jsonl
        text: text
        metrics: [word_perplexity, byte_perplexity, bits_per_byte, token_perplexity]

Files are JSON Lines (`.jsonl`/`.json`) or CSV at the repository's revision. Nothing here
touches the database: `suites.py` finds the text at a revision and `lmeval.py` turns the result
into lm-evaluation-harness task configs.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from models_hub.front_matter import FRONT_MATTER

EVAL_FILE = "eval.yaml"
MAX_BYTES = 32 * 1024
MAX_TASKS = 20
MAX_DEPTH = 6  # document -> mapping -> tasks list -> task mapping -> list -> text
MAX_TEXT = 2000
NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DATA_FILE = re.compile(r"^[^\s/][^\0]*\.(jsonl|json|csv)$")
PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]{0,63}\s*\}\}")
TEMPLATE_MARKS = ("{{", "}}", "{%", "%}", "{#", "#}")
MAX_GEN_TOKENS = 512
MAX_UNTIL = 4


class TaskType:
    GENERATE = "generate"
    MULTIPLE_CHOICE = "multiple_choice"
    PERPLEXITY = "perplexity"


METRICS = {
    TaskType.GENERATE: ("bleu", "chrf", "exact_match"),
    TaskType.MULTIPLE_CHOICE: ("acc", "acc_norm"),
    # token_perplexity is ours (lm-eval counts words and bytes, not tokens): see runner.py.
    TaskType.PERPLEXITY: ("word_perplexity", "byte_perplexity", "bits_per_byte", "token_perplexity"),
}
HIGHER_IS_BETTER = {"bleu": True, "chrf": True, "exact_match": True, "acc": True, "acc_norm": True,
                    "word_perplexity": False, "byte_perplexity": False, "bits_per_byte": False,
                    "token_perplexity": False}
TASK_KEYS = {
    TaskType.GENERATE: {"name", "type", "file", "prompt", "target", "metrics", "until", "max_tokens"},
    TaskType.MULTIPLE_CHOICE: {"name", "type", "file", "prompt", "choices", "target", "metrics"},
    TaskType.PERPLEXITY: {"name", "type", "file", "text", "metrics"},
}


@dataclass(frozen=True)
class TaskSpec:
    name: str
    type: str
    file: str
    metrics: tuple[str, ...]
    prompt: str = ""
    target: str = ""
    choices: str = ""
    text: str = ""
    until: tuple[str, ...] = ()
    max_tokens: int = 64


@dataclass(frozen=True)
class SuiteSpec:
    title: str
    tasks: tuple[TaskSpec, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return asdict(self)

    def metric_columns(self) -> list[tuple[str, str]]:
        """(task, metric) in declaration order: the leaderboard's columns."""
        return [(task.name, metric) for task in self.tasks for metric in task.metrics]


class _Refused(yaml.YAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """Composes nodes only; refuses anchors, aliases and deep nesting before they expand."""

    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(_("Anchors and aliases (& and *) are not allowed."))
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(_("The declaration is nested too deeply."))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _error(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


def _plain(node, where: str):
    """Nodes to plain data: mappings, lists and text only (scalars stay the text typed)."""
    if isinstance(node, MappingNode):
        out = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                raise _error(where, _("Keys must be plain text."))
            out[key.value] = _plain(value, f"{where}.{key.value}" if where != "eval" else key.value)
        return out
    if isinstance(node, SequenceNode):
        if len(node.value) > max(MAX_TASKS, MAX_UNTIL, len(HIGHER_IS_BETTER)):
            raise _error(where, _("Too many items."))
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:null":
        return None
    if len(node.value) > MAX_TEXT:
        raise _error(where, _("At most %(n)d characters.") % {"n": MAX_TEXT})
    return node.value


def load_yaml(text: str, *, where: str = "eval"):
    if len(text.encode()) > MAX_BYTES:
        raise _error(where, _("The declaration is longer than %(n)d bytes.") % {"n": MAX_BYTES})
    try:
        root = yaml.compose(text, Loader=_Loader)
    except _Refused as exc:
        raise _error(where, str(exc))
    except yaml.YAMLError as exc:
        raise _error(where, _("Not valid YAML: %(e)s") % {"e": exc})
    return None if root is None else _plain(root, where)


def declaration(*, eval_yaml: str | None, readme: str | None) -> dict | None:
    """The raw declaration: `eval.yaml`, else the card's front matter `eval:` key; None if neither."""
    if eval_yaml is not None:
        data = load_yaml(eval_yaml)
        if not isinstance(data, dict):
            raise _error("eval", _("%(file)s must be a mapping with a `tasks` list.") % {"file": EVAL_FILE})
        return data
    match = FRONT_MATTER.match(readme or "")
    if not match:
        return None
    front = load_yaml(match.group(1), where="card")
    if not isinstance(front, dict) or front.get("eval") is None:
        return None
    if not isinstance(front["eval"], dict):
        raise _error("eval", _("The card's `eval` key must be a mapping with a `tasks` list."))
    return front["eval"]


def _text(task: dict, key: str, where: str, *, required: bool = False, pattern: re.Pattern | None = None) -> str:
    value = task.get(key)
    if value is None or value == "":
        if required:
            raise _error(f"{where}.{key}", _("This field is required."))
        return ""
    if not isinstance(value, str):
        raise _error(f"{where}.{key}", _("Must be text."))
    if pattern is not None and not pattern.match(value):
        raise _error(f"{where}.{key}", _("Not a valid value: %(v)s") % {"v": value[:60]})
    return value


def prompt_is_safe(prompt: str) -> bool:
    """True when the prompt is plain text with `{{ field }}` placeholders and nothing else.

    lm-eval renders prompts with an unsandboxed Jinja environment, so an expression, a filter, an
    attribute or a `{% %}` block in a member's suite would run code on the evaluation worker."""
    rest = PLACEHOLDER.sub("", prompt)
    return not any(mark in rest for mark in TEMPLATE_MARKS)


def _int(task: dict, key: str, where: str, *, default: int | None, low: int, high: int) -> int | None:
    value = task.get(key)
    if value is None:
        return default
    # ASCII digits only ("²".isdigit() is true, and int() refuses it), few enough for int().
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise _error(f"{where}.{key}", _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
    return int(value)


def _task(raw, where: str, files: set[str] | None) -> TaskSpec:
    if not isinstance(raw, dict):
        raise _error(where, _("Each task must be a mapping."))
    kind = _text(raw, "type", where, required=True)
    if kind not in METRICS:
        raise _error(f"{where}.type", _("One of: %(choices)s.") % {"choices": ", ".join(METRICS)})
    unknown = sorted(set(raw) - TASK_KEYS[kind])
    if unknown:
        raise _error(f"{where}.{unknown[0]}", _("Unknown key for a %(type)s task.") % {"type": kind})
    name = _text(raw, "name", where, required=True, pattern=NAME)
    path = _text(raw, "file", where, required=True, pattern=DATA_FILE)
    if ".." in path.split("/") or (files is not None and path not in files):
        raise _error(f"{where}.file", _("No such file in the repository: %(path)s") % {"path": path[:200]})
    metrics = raw.get("metrics") or list(METRICS[kind][:2])
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, list) or any(m not in METRICS[kind] for m in metrics) or len(set(metrics)) != len(metrics):
        raise _error(f"{where}.metrics", _("Metrics of a %(type)s task: %(choices)s.")
                     % {"type": kind, "choices": ", ".join(METRICS[kind])})
    spec = {"name": name, "type": kind, "file": path, "metrics": tuple(metrics)}
    if kind == TaskType.PERPLEXITY:
        spec["text"] = _text(raw, "text", where, pattern=FIELD) or "text"
    else:
        spec["prompt"] = _text(raw, "prompt", where, required=True)
        if not prompt_is_safe(spec["prompt"]):
            raise _error(f"{where}.prompt", _("Only plain text and {{field}} placeholders are allowed."))
        spec["target"] = _text(raw, "target", where, required=True, pattern=FIELD)
    if kind == TaskType.MULTIPLE_CHOICE:
        spec["choices"] = _text(raw, "choices", where, required=True, pattern=FIELD)
    if kind == TaskType.GENERATE:
        until = raw.get("until", ["\n"])
        until = [until] if isinstance(until, str) else until
        if not isinstance(until, list) or not 0 < len(until) <= MAX_UNTIL or not all(
                isinstance(u, str) and 0 < len(u) <= 20 for u in until):
            raise _error(f"{where}.until", _("One to %(n)d stop strings.") % {"n": MAX_UNTIL})
        spec["until"] = tuple(until)
        spec["max_tokens"] = _int(raw, "max_tokens", where, default=64, low=1, high=MAX_GEN_TOKENS)
    return TaskSpec(**spec)


def parse(data: dict, *, files: set[str] | None = None, default_title: str = "") -> SuiteSpec:
    """A validated suite from a raw declaration; `files` are the repository's paths at the
    revision (a task's file must be one of them)."""
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise _error("tasks", _("Declare one or more tasks."))
    if len(tasks) > MAX_TASKS:
        raise _error("tasks", _("At most %(n)d tasks.") % {"n": MAX_TASKS})
    unknown = sorted(set(data) - {"title", "tasks"})
    if unknown:
        raise _error(unknown[0], _("Unknown key."))
    title = data.get("title") or default_title
    if not isinstance(title, str) or len(title) > 200:
        raise _error("title", _("At most %(n)d characters of text.") % {"n": 200})
    parsed = tuple(_task(raw, f"tasks[{i}]", files) for i, raw in enumerate(tasks))
    names = [task.name for task in parsed]
    duplicate = next((i for i, name in enumerate(names) if names.index(name) != i), None)
    if duplicate is not None:
        raise _error(f"tasks[{duplicate}].name", _("Task names must be unique."))
    return SuiteSpec(title=title, tasks=parsed)


def from_dict(data: dict) -> SuiteSpec:
    """A suite stored with `as_dict` (already validated)."""
    tasks = tuple(TaskSpec(**{**task, "metrics": tuple(task["metrics"]), "until": tuple(task["until"])})
                  for task in data["tasks"])
    return SuiteSpec(title=data["title"], tasks=tasks)
