"""Leaderboards, a run's page with its samples, the form that starts a run, and discussing a result."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError as BadOrdering

from community.models import Category
from core.exceptions import RateLimited, ServiceUnavailable, posting_too_fast, wait_in_words
from core.permissions import is_moderator

from . import permissions, services
from .forms import DiscussForm, RunForm
from .leaderboards import leaderboard
from .models import EvaluationRun, Suite

SAMPLES_PER_PAGE = 25
RUNS_PER_PAGE = 25


def leaderboards(request):
    return render(request, "evaluation/leaderboards.html", {"suites": Suite.objects.visible_to(request.user).listed()})


def suite_leaderboard(request, owner: str, name: str):
    suite = get_object_or_404(Suite.objects.visible_to(request.user).select_related("dataset"),
                              dataset__owner=owner, dataset__name=name)
    try:
        cols, by, rows = leaderboard(suite, request.GET.get("ordering"))
    except BadOrdering:
        cols, by, rows = leaderboard(suite)
    return render(request, "evaluation/leaderboard.html", {
        "suite": suite, "columns": cols, "by": by, "rows": rows,
        "ordering": request.GET.get("ordering") or (by.key if by else ""),
    })


def _run_page(request, run: EvaluationRun, *, status: int = 200, discuss_form: DiscussForm | None = None):
    samples = run.samples.all()
    task = request.GET.get("task")
    if task:
        samples = samples.filter(task=task)
    page = Paginator(samples, SAMPLES_PER_PAGE).get_page(request.GET.get("page"))
    general = Category.objects.filter(slug="general").first()
    return render(request, "evaluation/run.html", {
        "run": run, "page": page, "task": task or "", "tasks": run.suite_spec.get("tasks", []),
        "can_cancel": permissions.can_cancel(request.user, run) and not run.is_finished,
        "can_discuss": permissions.can_discuss(request.user, run),
        # Only the requester (whose thread it is) or a moderator names it; others get the default.
        "can_title": run.user_id == request.user.pk or is_moderator(request.user),
        "discuss_form": discuss_form or DiscussForm(initial={"category": general}),
    }, status=status)


def run_detail(request, pk: int):
    runs = EvaluationRun.objects.visible_to(request.user).with_names().select_related("thread")
    return _run_page(request, get_object_or_404(runs, pk=pk))


@login_required
def new_run(request):
    form = RunForm(request.POST or None, user=request.user, initial={
        "model": request.GET.get("model"),
        "suite": Suite.objects.filter(dataset__repo_id=request.GET.get("suite")).values_list("pk", flat=True).first(),
    })
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            run, created = services.request_run(user=request.user, model=form.cleaned_data["model"],
                                                dataset=form.cleaned_data["suite"].dataset)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(None, f"{field}: {' '.join(errors)}")
            status = 400
        except RateLimited as exc:
            form.add_error(None, _("You have too many evaluations running or requested today; try again in "
                                   "%(wait)s.") % {"wait": wait_in_words(exc.retry_after)})
            status = 429
        except ServiceUnavailable:
            form.add_error(None, _("The evaluation queue is unavailable. Please try again shortly."))
            status = 503
        else:
            if not created:
                messages.info(request, _("This evaluation was already run with the same revisions and settings."))
            return redirect(run)
    elif request.method == "POST":
        status = 400
    return render(request, "evaluation/new.html", {
        "form": form, "has_models": form.fields["model"].queryset.exists(),
        "has_suites": form.fields["suite"].queryset.exists()}, status=status)


@login_required
def my_runs(request):
    """The evaluations the member asked for, where each stands."""
    runs = EvaluationRun.objects.visible_to(request.user).requested_by(request.user).with_names()
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "evaluation/my_runs.html", {"page": page})


@login_required
@require_POST
def cancel(request, pk: int):
    run = get_object_or_404(EvaluationRun.objects.visible_to(request.user), pk=pk)
    services.cancel_run(user=request.user, run=run)
    return redirect(run)


@login_required
@require_POST
def discuss(request, pk: int):
    run = get_object_or_404(EvaluationRun.objects.visible_to(request.user).with_names().select_related("thread"), pk=pk)
    form = DiscussForm(request.POST)
    if not form.is_valid():  # e.g. category=abc: a 400 naming the field
        return _run_page(request, run, status=400, discuss_form=form)
    try:
        thread = services.discuss_run(user=request.user, run=run, category=form.cleaned_data["category"],
                                      title=form.cleaned_data["title"])
    except RateLimited as exc:  # a new member's first threads are spaced out, wherever they start
        form.add_error(None, posting_too_fast(exc))
        return _run_page(request, run, status=429, discuss_form=form)
    return redirect(thread)
