"""The bilingual demo dataset, written by the project itself: English–Chinese sentence pairs and
short question–answer pairs (arithmetic and facts we state ourselves), for evaluation work."""
from __future__ import annotations

import csv
import io
import json

SUBJECTS = [
    ("I", "我"), ("You", "你"), ("My friend", "我的朋友"), ("The teacher", "老师"), ("My mother", "我妈妈"),
    ("The student", "那个学生"), ("Our team", "我们的团队"), ("The doctor", "医生"), ("My brother", "我哥哥"),
    ("The engineer", "工程师"), ("Her sister", "她的妹妹"), ("The children", "孩子们"), ("The manager", "经理"),
    ("My neighbour", "我的邻居"), ("The writer", "那位作家"), ("His father", "他的父亲"), ("The class", "这个班"),
    ("The old man", "那位老人"), ("Our guest", "我们的客人"), ("The cook", "厨师"),
]
PLURAL_SUBJECTS = {"You", "The children"}  # and "I": the verb agrees with its subject
# Each predicate after a singular subject, after a plural one ("I" takes "am" for "are"), in Chinese.
PREDICATES = [
    ("likes green tea.", "like green tea.", "喜欢绿茶。"), ("goes to work by bus.", "go to work by bus.", "坐公交车上班。"),
    ("is reading a book.", "are reading a book.", "正在看书。"), ("lives in Beijing.", "live in Beijing.", "住在北京。"),
    ("will travel to Shanghai next week.", "will travel to Shanghai next week.", "下周要去上海旅行。"),
    ("cooked dinner yesterday.", "cooked dinner yesterday.", "昨天做了晚饭。"),
    ("is learning to swim.", "are learning to swim.", "正在学游泳。"),
    ("wants to buy a new phone.", "want to buy a new phone.", "想买一部新手机。"),
    ("often walks in the park.", "often walk in the park.", "经常在公园散步。"),
    ("forgot the umbrella at home.", "forgot the umbrella at home.", "把伞忘在家里了。"),
    ("is very busy today.", "are very busy today.", "今天很忙。"),
    ("speaks a little Chinese.", "speak a little Chinese.", "会说一点中文。"),
    ("has two cats.", "have two cats.", "有两只猫。"), ("gets up at six every day.", "get up at six every day.", "每天六点起床。"),
    ("is waiting at the station.", "are waiting at the station.", "在车站等着。"),
]
NUMBERS_ZH = "零一二三四五六七八九十"


def _zh_number(n: int) -> str:
    if n <= 10:
        return NUMBERS_ZH[n]
    tens, ones = divmod(n, 10)
    return (NUMBERS_ZH[tens] if tens > 1 else "") + "十" + (NUMBERS_ZH[ones] if ones else "")


def _agreeing(subject: str, singular: str, plural: str) -> str:
    if subject == "I":
        return "am" + plural[3:] if plural.startswith("are ") else plural
    return plural if subject in PLURAL_SUBJECTS else singular


def translation_pairs() -> list[dict]:
    """300 sentence pairs: every subject with every predicate."""
    rows = []
    for i, (subject_en, subject_zh) in enumerate(SUBJECTS):
        for j, (singular, plural, pred_zh) in enumerate(PREDICATES):
            english = f"{subject_en} {_agreeing(subject_en, singular, plural)}"
            rows.append({"id": f"t{i * len(PREDICATES) + j:04d}", "en": english,
                         "zh": f"{subject_zh}{pred_zh}"})
    return rows


def qa_pairs() -> list[dict]:
    """Short arithmetic questions and answers in both languages (answers are computed)."""
    rows = []
    for a in range(1, 11):
        for b in range(1, 11):
            if (a + b) % 2 and a != b:
                continue
            rows.append({"id": f"q{len(rows):04d}", "lang": "en", "question": f"What is {a} plus {b}?",
                         "answer": str(a + b)})
            rows.append({"id": f"q{len(rows):04d}", "lang": "zh",
                         "question": f"{_zh_number(a)}加{_zh_number(b)}等于几？", "answer": str(a + b)})
    return rows


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def eval_translation() -> list[dict]:
    """A small held-out slice of the pairs for the demo suite (every 25th: 12 pairs)."""
    return translation_pairs()[::25]


def eval_choices() -> list[dict]:
    """Multiple-choice sums in both languages: four numbers, one of them right."""
    rows = []
    for row in qa_pairs()[:20]:
        answer = int(row["answer"])
        options = [answer, answer + 1, answer - 1, answer + 2]
        shift = len(rows) % 4
        options = options[shift:] + options[:shift]
        rows.append({"id": row["id"], "lang": row["lang"], "question": row["question"],
                     "choices": [str(o) for o in options], "answer": options.index(answer)})
    return rows


TEXTS = [
    {"lang": "en", "text": "The library opens at nine in the morning. Students come early to find a quiet "
                           "seat by the window, and the old librarian greets each of them by name. In the "
                           "afternoon the reading room fills up, and by evening only a few people remain, "
                           "reading slowly until the lights go out."},
    {"lang": "zh", "text": "图书馆每天早上九点开门。学生们很早就来，想在窗边找一个安静的座位，老馆员会叫出每个人的名字"
                           "向他们问好。下午阅览室里坐满了人，到了晚上只剩下几个人，一直慢慢地读到熄灯。"},
]

EVAL_YAML = """\
# The evaluation suite of this dataset (see the site's docs: Evaluation).
title: Bilingual demo (zh↔en translation, sums, perplexity)
tasks:
  - name: translate_zh_en
    type: generate
    file: eval/translation.jsonl
    prompt: "Translate Chinese to English.\\nChinese: {{zh}}\\nEnglish:"
    target: en
    metrics: [bleu, chrf]
    until: ["\\n"]
    max_tokens: 32
  - name: translate_en_zh
    type: generate
    file: eval/translation.jsonl
    prompt: "Translate English to Chinese.\\nEnglish: {{en}}\\nChinese (中文):"
    target: zh
    metrics: [bleu, chrf]
    until: ["\\n"]
    max_tokens: 32
  - name: sums
    type: multiple_choice
    file: eval/choice.jsonl
    prompt: "Question: {{question}}\\nAnswer:"
    choices: choices
    target: answer
    metrics: [acc, acc_norm]
  - name: text_en
    type: perplexity
    file: eval/text_en.jsonl
    text: text
    metrics: [word_perplexity, byte_perplexity, bits_per_byte, token_perplexity]
  - name: text_zh
    type: perplexity
    file: eval/text_zh.jsonl
    text: text
    metrics: [byte_perplexity, bits_per_byte, token_perplexity]
"""


def files() -> dict[str, bytes]:
    pairs, qa = translation_pairs(), qa_pairs()
    return {"data/translation.jsonl": jsonl(pairs), "data/translation.csv": as_csv(pairs),
            "data/qa.jsonl": jsonl(qa), "eval.yaml": EVAL_YAML.encode("utf-8"),
            "eval/translation.jsonl": jsonl(eval_translation()), "eval/choice.jsonl": jsonl(eval_choices()),
            "eval/text_en.jsonl": jsonl(TEXTS[:1]), "eval/text_zh.jsonl": jsonl(TEXTS[1:])}


CARD = """---
license: cc-by-4.0
language:
  - en
  - zh
task_categories:
  - translation
  - question-answering
pipeline_tag: translation
tags:
  - bilingual
  - evaluation
  - demo
size_categories:
  - n<1K
train_format: prompt_completion
train_file: data/translation.jsonl
train_prompt: "Translate into Chinese: {{en}}"
train_completion: "{{zh}}"
---

# Bilingual demo set (English ↔ 中文)

Written by this site's maintainers for evaluating small models: **{pairs} sentence pairs**
(`data/translation.jsonl`, also as `data/translation.csv`) built from everyday subjects and
predicates, and **{qa} short questions** (`data/qa.jsonl`) — sums of two numbers from 1 to 10, asked
in English and in Chinese, with the answer computed.

本数据集由本站维护者编写，用于评测小模型：{pairs} 对中英句子，以及 {qa} 道中英文加法问答题。

Fine-tuning reads the `train_*` keys above: each sentence pair becomes a chat turn (the English
sentence with "Translate into Chinese:" as the prompt, the Chinese sentence as the answer).
微调按上方 `train_*` 键读取：每对句子成为一轮对话（提示为英文句子，回答为中文译文）。

```python
from huggingface_hub import hf_hub_download
path = hf_hub_download("community/bilingual-demo", "data/qa.jsonl", repo_type="dataset")
```
"""


def card() -> str:
    return CARD.format(pairs=len(translation_pairs()), qa=len(qa_pairs()))
