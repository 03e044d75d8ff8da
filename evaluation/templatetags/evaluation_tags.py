"""Template tags: a model's results and a dataset's suite on their hub pages (the hub's templates
include these; models_hub itself knows nothing of evaluation), and metric formatting."""
from django import template

from models_hub.models import Resource

from ..arena import leaderboard as arena_leaderboard
from ..models import EvaluationRun
from ..suite_spec import from_dict
from ..suites import sync_suite

register = template.Library()
MAX_MODEL_RESULTS = 10


@register.filter
def metric(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def metric_rows(run: EvaluationRun) -> list[tuple]:
    """(task, metric, value, stderr) in the suite's declaration order."""
    if not run.suite_spec:
        return []
    return [(task, name, run.metrics.get(task, {}).get(name), run.metrics.get(task, {}).get(f"{name}_stderr"))
            for task, name in from_dict(run.suite_spec).metric_columns()]


@register.filter
def shown_error(job, battle) -> str:
    """`{{ job|shown_error:battle }}`: Battle.shown_error, for a battle's pane."""
    return battle.shown_error(job)


@register.inclusion_tag("evaluation/model_results.html")
def model_evaluations(resource: Resource) -> dict:
    """A model's latest result on each suite (as Hugging Face's model-index shows), and its place
    on the arena leaderboard (the cached fit: one cheap query while the votes are unchanged)."""
    if resource.kind != Resource.Kind.MODEL:
        return {"runs": [], "arena": None}
    latest: dict[int, EvaluationRun] = {}
    for run in EvaluationRun.objects.for_model(resource)[:MAX_MODEL_RESULTS * 5]:
        latest.setdefault(run.suite_id, run)
    board = arena_leaderboard.current()
    place = next(((rank, row) for rank, row in enumerate(board.results, 1) if row["model"] == resource.repo_id), None)
    arena = {"rank": place[0], "of": len(board.results), **place[1]} if place else None
    return {"runs": list(latest.values())[:MAX_MODEL_RESULTS], "arena": arena}


@register.inclusion_tag("evaluation/dataset_suite.html", takes_context=True)
def dataset_suite(context, resource: Resource) -> dict:
    """A dataset's suite as of its head, with the errors of a bad declaration."""
    if resource.kind != Resource.Kind.DATASET:
        return {"suite": None}
    return {"suite": sync_suite(resource), "user": context.get("user")}
