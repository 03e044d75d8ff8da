"""The playground page, run history, a run's page, sharing and posting to the forum."""
from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from community.forms import parse_id
from community.models import Category
from community.services import TITLE_MAX_LENGTH
from core.exceptions import RateLimited, posting_too_fast
from core.permissions import moderator_required
from models_hub.models import Resource

from . import params as generation_params
from . import permissions, services
from .forms import PostToForumForm, ReportForm, ReviewForm, RunFilterForm
from .models import GenerationJob, ReviewDecision, RunReport
from .presets import presets
from .serializers import ParamsSerializer


def _bounds() -> dict:
    fields = ParamsSerializer().fields
    return {name: {"min": getattr(fields[name], "min_value", None), "max": getattr(fields[name], "max_value", None)}
            for name in ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "presence_penalty",
                         "frequency_penalty")}


def _opened_run(request) -> dict | None:
    """A saved run to go on from (`?run=<id>`: the member's own; `?shared=<token>`: one shared with
    them), as the page keeps its conversation (playground.js's remember()). Not to be had: 404."""
    if "shared" in request.GET:
        job = GenerationJob.objects.shared(request.GET["shared"]).select_related("resource").first()
        link = job and job.get_share_url()
    elif "run" in request.GET:
        run_id = parse_id(request.GET["run"])
        job = GenerationJob.objects.owned_by(request.user).select_related("resource").filter(pk=run_id).first() \
            if run_id else None
        link = job and job.get_absolute_url()
    else:
        return None
    if job is None:
        raise Http404(_("No such run, or it is not shared."))
    return _conversation(job, link)


def _conversation(job: GenerationJob, link: str) -> dict:
    """The run's messages as the history and its answer as the last turn, a pair asked in this
    tab (so Edit and Regenerate work on it); the system prompt and settings as they were."""
    chat = job.mode == GenerationJob.Mode.CHAT
    turns = [m for m in job.messages or [] if m["role"] != "system"] if chat else []
    answered = job.status != GenerationJob.Status.FAILED
    kept = {"model": job.resource.repo_id, "mode": job.mode, "params": job.params,
            "system": next((m["content"] for m in job.messages or [] if m["role"] == "system"), "")}
    if chat and not (turns and turns[-1]["role"] == "user"):
        # Asked after an assistant's turn (a client's prefill): the conversation as it stands.
        return {**kept, "pairs": [], "history": turns + (
            [{"role": "assistant", "content": job.output}] if answered and job.output else [])}
    asked = turns.pop()["content"] if chat else job.prompt
    result = {"id": job.pk, "url": link, "status": job.status, "output": job.output,
              "metrics": {"prompt_tokens": job.prompt_tokens, "completion_tokens": job.completion_tokens,
                          "ttft_ms": job.ttft_ms, "tokens_per_s": job.tokens_per_s}}
    answer = [{"role": "user", "content": asked}, {"role": "assistant", "content": job.output}] \
        if chat and answered else []
    return {**kept, "history": turns + answer, "pairs": [{"text": asked, "before": len(turns), "result": result}]}


def playground(request):
    opened = _opened_run(request)
    models = list(Resource.objects.runnable(request.user).select_related("runtime").order_by("repo_id"))
    wanted = opened["model"] if opened else request.GET.get("model")
    selected = next((m for m in models if m.repo_id == wanted), models[0] if models else None)
    if opened and (selected is None or selected.repo_id != opened["model"]):
        messages.warning(request, _("%(model)s no longer runs here: the conversation goes on with another model.")
                         % {"model": opened["model"]})
    # The same defaults the jobs API and /v1/ start from, and which settings the model's runtime
    # takes at all (a server behind an `openai` runtime may not take top_k, say).
    defaults = {m.repo_id: {**generation_params.defaults(m.runtime), "max_cap": m.runtime.max_new_tokens,
                            "supported": list(generation_params.supported_params(m.runtime))} for m in models}
    return render(request, "playground/index.html", {
        "models": models, "selected": selected, "defaults_json": json.dumps(defaults),
        "selected_defaults": defaults[selected.repo_id] if selected else {},
        "presets": presets(), "presets_json": json.dumps(presets(), ensure_ascii=False),
        "bounds": _bounds(), "api_base": request.build_absolute_uri("/")[:-1], "opened": opened,
    })


@login_required
def runs(request):
    form = RunFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "playground/runs.html", {"form": form, "page": None}, status=400)
    jobs = form.filter(GenerationJob.objects.owned_by(request.user).select_related("resource"))
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(request, "playground/runs.html", {"form": form, "page": page})


USAGE_DAYS = 30


@login_required
def usage(request):
    """What the member ran in the last USAGE_DAYS days, by day and by model, and where they stand
    against the hourly quota (OpenAI's Usage page, and its rate limits)."""
    jobs = GenerationJob.objects.usage(request.user, days=USAGE_DAYS)
    return render(request, "playground/usage.html", {
        "days": USAGE_DAYS, "total": jobs.total(), "by_day": jobs.by_day(), "by_model": jobs.by_model(),
        "quota": services.quota_usage(request.user)})


@login_required
@require_POST
def delete(request, pk: int):
    job = get_object_or_404(GenerationJob.objects.owned_by(request.user), pk=pk)
    try:
        services.delete_job(user=request.user, job=job)
    except services.CannotDelete as exc:
        messages.error(request, str(exc))
        return redirect(job)
    messages.success(request, _("Run #%(n)d was deleted.") % {"n": pk})
    return redirect("playground:runs")


def _job_page(request, job: GenerationJob, *, shared: bool, status: int = 200, **extra):
    """A run's page: the owner's (by id, with sharing and posting) or the shared one (by token)."""
    share_url = job.get_share_url()
    return render(request, "playground/run.html", {
        "job": job, "shared": shared,
        "is_owner": permissions.is_owner(request.user, job),
        "can_share": not shared and permissions.can_share(request.user, job),
        "can_post_to_forum": not shared and permissions.can_post_to_forum(request.user, job),
        "title_max_length": TITLE_MAX_LENGTH,
        "categories": Category.objects.open_to_members() if not shared else [],
        "share_url": request.build_absolute_uri(share_url) if share_url else None,
        "can_report": shared and permissions.can_report(request.user, job),
        "report_form": ReportForm(),
        "already_reported": shared and request.user.is_authenticated
        and job.reports.filter(reporter=request.user).exists(),
        **extra,
    }, status=status)


@login_required
def run_detail(request, pk: int):
    """Only the owner opens a run by id; everyone else needs its share link."""
    job = get_object_or_404(GenerationJob.objects.owned_by(request.user).select_related("resource", "user", "thread"),
                            pk=pk)
    return _job_page(request, job, shared=False)


def shared_run(request, token: str):
    job = get_object_or_404(GenerationJob.objects.shared(token).select_related("resource", "user"))
    return _job_page(request, job, shared=True)


@login_required
@require_POST
def share(request, pk: int):
    job = get_object_or_404(GenerationJob.objects.owned_by(request.user), pk=pk)
    public = request.POST.get("public") == "1"
    services.set_public(user=request.user, job=job, public=public)
    messages.success(request, _("Anyone with the link can now see this run.") if public
                     else _("This run is private again."))
    return redirect(job)


@login_required
@require_POST
def post_to_forum(request, pk: int):
    job = get_object_or_404(GenerationJob.objects.owned_by(request.user).select_related("resource", "user", "thread"),
                            pk=pk)
    form = PostToForumForm(request.POST)
    if not form.is_valid():  # e.g. category=abc: a 400 naming the field, not a 500
        return _job_page(request, job, shared=False, status=400, post_form=form)
    title = form.cleaned_data["title"] or _("Playground run with %(model)s") % {"model": job.resource.repo_id}
    try:
        thread = services.post_to_forum(user=request.user, job=job, category=form.cleaned_data["category"],
                                        title=title)
    except RateLimited as exc:
        messages.error(request, posting_too_fast(exc))
        return redirect(job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(job)
    return redirect(thread)


@login_required
@require_POST
def report(request, token: str):
    """A member reports a shared run to the moderators."""
    job = get_object_or_404(GenerationJob.objects.shared(token).select_related("resource", "user"))
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _job_page(request, job, shared=True, status=400, report_form=form)
    try:
        services.report_run(user=request.user, job=job, reason=form.cleaned_data["reason"])
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Thanks — moderators will review this run."))
    return redirect(job.get_share_url())


REVIEW_PAGE_SIZE = 20


@moderator_required
def review(request):
    """The moderators' queue of reported runs: keep each public or make it private."""
    form = ReviewForm(request.POST) if request.method == "POST" else ReviewForm()
    if request.method == "POST":
        if form.is_valid():
            services.review_run(moderator=request.user, job=form.cleaned_data["job"],
                                decision=form.cleaned_data["decision"])
            messages.success(request, _("Done: the run's reports are resolved."))
            return redirect("playground:review")
    reported = (GenerationJob.objects.with_open_reports()
                .select_related("resource", "user")
                .prefetch_related(Prefetch("reports", queryset=RunReport.objects.filter(resolved=False)
                                           .select_related("reporter"), to_attr="open_reports")))
    page = Paginator(reported, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "playground/review.html", {
        "page": page, "form": form, "decisions": ReviewDecision,
    }, status=400 if form.is_bound and form.errors else 200)
