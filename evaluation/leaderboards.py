"""A suite's leaderboard: each model's latest succeeded run, ranked by a metric column."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from models_hub.repos.models import Entry

from .models import EvaluationRun, Suite
from .suite_spec import HIGHER_IS_BETTER, from_dict


@dataclass
class Column:
    task: str
    metric: str

    @property
    def key(self) -> str:
        return f"{self.task}.{self.metric}"

    @property
    def higher_is_better(self) -> bool:
        return HIGHER_IS_BETTER[self.metric]


@dataclass
class Row:
    rank: int
    run: EvaluationRun
    cells: list[tuple[float | None, float | None]]  # (value, stderr) per column
    older_data: bool = False  # measured on another suite definition or other task files than now


def columns(suite: Suite) -> list[Column]:
    return [Column(task, metric) for task, metric in from_dict(suite.spec).metric_columns()] if suite.is_valid else []


def _on_older_data(suite: Suite, runs: list[EvaluationRun]) -> set[int]:
    """The runs measured on other evaluation data than the suite holds now: another definition,
    or other bytes in a task's file. An edit elsewhere in the dataset (its README) is no change.
    One query, whatever the number of rows."""
    if not suite.is_valid or not runs:
        return set()
    files = {task.file for task in from_dict(suite.spec).tasks}
    revisions = {run.dataset_revision for run in runs} | {suite.revision}
    trees: dict[str, dict[str, int]] = defaultdict(dict)
    for sha, path, blob in Entry.objects.filter(commit__resource=suite.dataset_id, commit__sha__in=revisions,
                                                path__in=files).values_list("commit__sha", "path", "blob_id"):
        trees[sha][path] = blob
    now = trees[suite.revision]
    return {run.pk for run in runs if run.suite_spec != suite.spec or trees[run.dataset_revision] != now}


def _parse_ordering(ordering: str | None, cols: list[Column]) -> tuple[Column | None, bool]:
    """`?ordering=task.metric` (best first) or `-task.metric` (worst first)."""
    if not cols:
        return None, False
    if not ordering:
        return cols[0], False
    reverse = ordering.startswith("-")
    key = ordering.removeprefix("-")
    for col in cols:
        if col.key == key:
            return col, reverse
    raise ValidationError({"ordering": [_("One of: %(keys)s (a leading - reverses it).")
                                        % {"keys": ", ".join(c.key for c in cols)}]})


def leaderboard(suite: Suite, ordering: str | None = None) -> tuple[list[Column], Column | None, list[Row]]:
    """(columns, the column ranked by, rows). Ranked best first on that column (by its own sense:
    lower perplexity is better); runs without a value go last."""
    cols = columns(suite)
    by, reverse = _parse_ordering(ordering, cols)
    latest: dict[int, EvaluationRun] = {}
    for run in EvaluationRun.objects.for_leaderboard(suite):
        latest.setdefault(run.model_id, run)
    runs = list(latest.values())

    def value(run: EvaluationRun, col: Column):
        return run.metrics.get(col.task, {}).get(col.metric)

    if by is not None:
        known = [r for r in runs if value(r, by) is not None]
        unknown = [r for r in runs if value(r, by) is None]
        known.sort(key=lambda r: value(r, by), reverse=by.higher_is_better != reverse)
        runs = known + sorted(unknown, key=lambda r: r.model.repo_id)
    older = _on_older_data(suite, runs)
    rows = [Row(rank=i + 1, run=run, cells=[(value(run, c), run.metrics.get(c.task, {}).get(c.metric + "_stderr"))
                                            for c in cols], older_data=run.pk in older) for i, run in enumerate(runs)]
    return cols, by, rows
