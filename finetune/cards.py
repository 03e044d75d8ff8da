"""The generated card of a fine-tuned model, in English and Chinese: what it was trained from,
on what (at which revision), how, with what result, by which library versions. Its front matter
(`base_model`, `datasets`) gives the hub its relations."""
from __future__ import annotations

from .models import FineTuneJob

LOSS_CURVE = "loss_curve.svg"
PARAM_ORDER = ("max_steps", "epochs", "learning_rate", "lora_r", "lora_alpha", "lora_dropout", "batch_size",
               "max_seq_len", "seed")

TEMPLATE = """---
base_model: {base}
datasets:
  - {dataset}
library_name: peft
pipeline_tag: text-generation
tags:
  - lora
  - fine-tuned
  - trl
---

# {repo_id}

A LoRA adapter of [{base}]({base_url}) trained on [{dataset}]({dataset_url}) (revision `{revision}`)
by {user} on this site, with TRL's SFT trainer and PEFT. It runs in the playground as the base model with
the adapter merged in.

| | |
| --- | --- |
| Base model | `{base}` |
| Dataset | `{dataset}` @ `{revision}` |
| Format | {format} (`{file}`) |
| Steps | {steps} ({epoch} epochs) |
| Final loss | {loss} |
| Training time | {seconds} s |

## Hyper-parameters

| parameter | value |
| --- | --- |
{params}

## Library versions

{versions}

## Loss curve

![Training loss by step]({curve_url})

{loss_table}

## 中文说明

这是 [{base}]({base_url}) 的 LoRA 适配器，由 {user} 在本站用 TRL 的 SFT 训练器和 PEFT 在数据集
[{dataset}]({dataset_url})（版本 `{revision}`）上训练。在试玩场中，它以基础模型合并适配器后的形式运行。

- 基础模型：`{base}`
- 数据集：`{dataset}` @ `{revision}`（格式 {format}，文件 `{file}`）
- 训练步数：{steps}（{epoch} 轮）
- 最终损失：{loss}
- 训练时间：{seconds} 秒
- 超参数和库版本见上方表格；损失曲线见上图。
"""


def _value(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def loss_table(history: list[dict], rows: int = 10) -> str:
    """A few (step, loss) points, evenly spread, for readers of the Markdown source."""
    if not history:
        return ""
    picked = history if len(history) <= rows else [history[round(i * (len(history) - 1) / (rows - 1))]
                                                   for i in range(rows)]
    lines = ["| step | loss |", "| --- | --- |"] + [f"| {p['step']} | {p['loss']:.4f} |" for p in picked]
    return "\n".join(lines)


def render(job: FineTuneJob, *, seconds: float, name: str) -> str:
    """The card of the repository `name` (under the job's member) that holds the job's adapter."""
    repo_id = f"{job.user.username}/{name}"
    params = "\n".join(f"| {name} | {_value(job.params[name])} |" for name in PARAM_ORDER if name in job.params)
    versions = "\n".join(f"- {name} {version}" for name, version in sorted(job.versions.items()))
    return TEMPLATE.format(
        base=job.base_model.repo_id, base_url=job.base_model.get_absolute_url(), dataset=job.dataset.repo_id,
        dataset_url=job.dataset.get_absolute_url(), revision=job.dataset_revision[:12], user=job.user.username,
        repo_id=repo_id, format=job.train_spec.get("format", ""), file=job.train_spec.get("file", ""),
        steps=job.step, epoch=f"{job.epoch or 0:.2f}", loss=f"{job.loss:.4f}" if job.loss is not None else "—",
        seconds=f"{seconds:.0f}", params=params, versions=versions,
        curve_url=f"/{repo_id}/resolve/main/{LOSS_CURVE}", loss_table=loss_table(job.history),
    )
