"""How a dataset's rows become training examples, as its card declares (no Django here: the
worker, the benchmark and the tests share it).

Card front matter keys (flat, as the card parser allows):

    train_format: prompt_completion      # or messages, or text
    train_file: data/translation.jsonl   # a JSON Lines, CSV or Parquet file of the repository
    train_prompt: "Translate into Chinese: {en}"   # prompt_completion: templates over columns
    train_completion: "{zh}"
    train_text: "{text}"                 # text: a template
    train_messages: messages             # messages: the column holding [{role, content}]

A template's `{column}` is replaced by that column's value, and nothing else is interpreted
(no attribute access, unlike str.format).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from core import parquet, parsers

FORMATS = ("messages", "prompt_completion", "text")
# What a dataset card's front matter declares (or a fine-tuning request, for a card that does not).
DECLARATION_KEYS = ("train_format", "train_file", "train_prompt", "train_completion", "train_text", "train_messages")
FILE_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")
ROLES = ("system", "user", "assistant")
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]{1,64})\}")
KEYS = ("train_format", "train_file", "train_prompt", "train_completion", "train_text", "train_messages")


class FormatError(ValueError):
    """The declaration or the data does not fit; `key` is the card key (or file) at fault."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class TrainSpec:
    format: str
    file: str
    prompt: str = ""
    completion: str = ""
    text: str = ""
    messages: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainSpec":
        return cls(**{k: data.get(k, "") for k in ("format", "file", "prompt", "completion", "text", "messages")})

    def columns(self) -> set[str]:
        """The columns the declaration reads."""
        if self.format == "messages":
            return {self.messages}
        templates = (self.prompt, self.completion) if self.format == "prompt_completion" else (self.text,)
        return {name for template in templates for name in PLACEHOLDER.findall(template)}


def request_declaration(data: dict) -> tuple[dict | None, list[str]]:
    """A request's own declaration: the DECLARATION_KEYS it filled in (None when it gave none,
    and the card's is used), and the keys it still lacks (a format and a file, once it gave any)."""
    declaration = {key: data[key] for key in DECLARATION_KEYS if data.get(key)}
    if not declaration:
        return None, []
    return declaration, [key for key in ("train_format", "train_file") if key not in declaration]


def _text(meta: dict, key: str) -> str:
    value = meta.get(key)
    if isinstance(value, list):
        raise FormatError(key, _("%(key)s must be one value, not a list.") % {"key": key})
    return (value or "").strip()


def spec_from_card(meta: dict) -> TrainSpec:
    """The training declaration in a card's front matter; FormatError names the key at fault."""
    fmt = _text(meta, "train_format")
    if not fmt:
        raise FormatError("train_format", _("The dataset's card declares no train_format "
                                            "(messages, prompt_completion or text)."))
    if fmt not in FORMATS:
        raise FormatError("train_format", _("train_format must be one of %(formats)s, not %(value)r.")
                          % {"formats": ", ".join(FORMATS), "value": fmt})
    path = _text(meta, "train_file")
    if not path:
        raise FormatError("train_file", _("The dataset's card names no train_file."))
    if not path.lower().endswith(FILE_SUFFIXES):
        raise FormatError("train_file", _("train_file must be a JSON Lines (.jsonl), CSV (.csv) or Parquet "
                                            "(.parquet) file."))
    spec = TrainSpec(format=fmt, file=path, prompt=_text(meta, "train_prompt"),
                     completion=_text(meta, "train_completion"), text=_text(meta, "train_text"),
                     messages=_text(meta, "train_messages") or "messages")
    required = {"prompt_completion": ("train_prompt", "train_completion"), "text": ("train_text",)}.get(fmt, ())
    for key in required:
        template = getattr(spec, key.removeprefix("train_"))
        if not PLACEHOLDER.search(template):
            raise FormatError(key, _("%(key)s must name at least one column, as {column}.") % {"key": key})
    return spec


def parse_rows(data: bytes, path: str, *, limit: int | None = None, partial: bool = False) -> list[dict]:
    """Rows of a JSON Lines or CSV file. `partial`: the bytes are a file's head, so a last line
    cut short is dropped rather than refused."""
    text = data.decode("utf-8", errors="strict" if not partial else "ignore")
    if partial and "\n" in text:
        text = text[:text.rindex("\n") + 1]
    rows: list[dict] = []
    if path.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text, newline=""))  # CR and CRLF line ends as well as LF
        try:
            for row in reader:
                rows.append(row)
                if limit and len(rows) >= limit:
                    break
        except csv.Error as exc:  # a cell past the field limit, a stray quote or line end
            raise FormatError("train_file", _("%(file)s, line %(n)d: %(reason)s")
                              % {"file": path, "n": reader.line_num, "reason": exc}) from None
        return rows
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = parsers.loads(line)
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise FormatError("train_file", _("%(file)s line %(n)d is not valid JSON (%(reason)s).")
                              % {"file": path, "n": number, "reason": reason}) from None
        if not isinstance(row, dict):
            raise FormatError("train_file", _("%(file)s line %(n)d is not a JSON object.") % {"file": path, "n": number})
        rows.append(row)
        if limit and len(rows) >= limit:
            break
    return rows


def parquet_rows(path: str, name: str, *, columns: set[str], max_bytes: int, limit: int | None = None) -> list[dict]:
    """Rows of the Parquet file at `path` (shown as `name`), only the `columns` the declaration
    reads, decoded in a sandbox (core.parquet): a few kilobytes of compressed Parquet can decode to
    gigabytes, so a file that declares or decodes to more than `max_bytes` is refused."""
    try:
        table = parquet.read(path, columns=sorted(columns), limit=limit, max_bytes=max_bytes)
    except parquet.ParquetError as exc:
        if exc.reason in ("memory", "timeout"):
            raise FormatError("train_file", _("%(file)s is too large to decode here.") % {"file": name}) from None
        raise FormatError("train_file", _("%(file)s is not a readable Parquet file (%(reason)s).")
                          % {"file": name, "reason": str(exc).split(":")[0]}) from None
    if table.too_large:
        raise FormatError("train_file", _("%(file)s holds more than %(n)d bytes once decompressed.")
                          % {"file": name, "n": max_bytes})
    return table.rows


def _fill(template: str, row: dict, key: str, number: int) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in row or row[name] is None:
            raise FormatError(key, _("Row %(n)d has no column %(column)r, which %(key)s uses.")
                              % {"n": number, "column": name, "key": key})
        cell = row[name]
        return cell if isinstance(cell, str) else json.dumps(cell, ensure_ascii=False, default=str)
    return PLACEHOLDER.sub(value, template)


def _messages(row: dict, spec: TrainSpec, number: int) -> list[dict]:
    value = row.get(spec.messages)
    if not isinstance(value, list) or not value:
        raise FormatError("train_messages", _("Row %(n)d: column %(column)r must be a non-empty list of "
                                              "{role, content} messages.") % {"n": number, "column": spec.messages})
    for message in value:
        if (not isinstance(message, dict) or message.get("role") not in ROLES
                or not isinstance(message.get("content"), str)):
            raise FormatError("train_messages", _("Row %(n)d: each message needs a role (%(roles)s) and a text "
                                                  "content.") % {"n": number, "roles": ", ".join(ROLES)})
    if value[-1]["role"] != "assistant":
        raise FormatError("train_messages", _("Row %(n)d: the last message must be the assistant's.") % {"n": number})
    return [{"role": m["role"], "content": m["content"]} for m in value]


def example(row: dict, spec: TrainSpec, number: int) -> dict:
    """One training example as TRL's SFT trainer takes it: conversational prompt and
    completion (the chat template applies and only the completion is learnt), messages, or text."""
    if spec.format == "messages":
        return {"messages": _messages(row, spec, number)}
    if spec.format == "text":
        return {"text": _fill(spec.text, row, "train_text", number)}
    return {"prompt": [{"role": "user", "content": _fill(spec.prompt, row, "train_prompt", number)}],
            "completion": [{"role": "assistant",
                            "content": _fill(spec.completion, row, "train_completion", number)}]}


def examples(rows: list[dict], spec: TrainSpec) -> list[dict]:
    if not rows:
        raise FormatError("train_file", _("%(file)s has no rows.") % {"file": spec.file})
    return [example(row, spec, number) for number, row in enumerate(rows, 1)]
