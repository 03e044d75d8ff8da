"""The fine-tuning pages: the form, my jobs, a job's page with its curves, cancel."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.charts import line_chart
from core.exceptions import RateLimited, ServiceUnavailable, wait_in_words

from . import permissions, services
from .formats import DECLARATION_KEYS
from .forms import PARAM_LABELS, FineTuneForm
from .models import FineTuneJob

PAGE_SIZE = 20


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    # "Start again with these settings" sends a job's choices here; the form checks them on submit.
    initial = {key: request.GET[key] for key in ("base_model", "dataset", *PARAM_LABELS, *DECLARATION_KEYS)
               if key in request.GET}
    form = FineTuneForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.submit_finetune(user=request.user, base_model=data["base_model"], dataset=data["dataset"],
                                           params=data["params"], output_name=data["output_name"],
                                           declaration=data["declaration"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except RateLimited as exc:
            form.add_error(None, _("You have reached your fine-tuning quota. Try again in %(wait)s.")
                           % {"wait": wait_in_words(exc.retry_after)})
        except ServiceUnavailable:
            form.add_error(None, _("The training queue is unavailable. Please try again shortly."))
        else:
            return redirect(job)
    return render(request, "finetune/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def jobs(request):
    page = Paginator(FineTuneJob.objects.owned_by(request.user).for_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "finetune/jobs.html", {"page": page})


def _job(request, pk: int) -> FineTuneJob:
    return get_object_or_404(FineTuneJob.objects.visible_to(request.user).for_list(), pk=pk)


def _charts(job: FineTuneJob) -> dict:
    return {
        "loss_chart": line_chart([(p["step"], p["loss"]) for p in job.history], label=_("Training loss by step")),
        "lr_chart": line_chart([(p["step"], p["lr"]) for p in job.history], label=_("Learning rate by step")),
    }


@login_required
def detail(request, pk: int):
    job = _job(request, pk)
    # The declaration it was trained with too: the dataset's card may say otherwise by now.
    again = {"base_model": job.base_model.repo_id, "dataset": job.dataset.repo_id, **job.params,
             **{f"train_{key}": value for key, value in job.train_spec.items() if value}}
    return render(request, "finetune/job.html", {
        "job": job, "can_cancel": not job.is_finished and permissions.can_cancel(request.user, job),
        "params": [(PARAM_LABELS.get(name, name), value) for name, value in job.params.items()],
        "again_url": f"{reverse('finetune:new')}?{urlencode(again)}", **_charts(job)})


@login_required
def charts(request, pk: int):
    """The curves alone, redrawn by the page as progress arrives."""
    job = _job(request, pk)
    return render(request, "finetune/includes/charts.html", _charts(job))


@login_required
@require_POST
def cancel(request, pk: int):
    job = services.cancel_finetune(user=request.user, job=_job(request, pk))
    messages.success(request, _("Cancelling: the job stops after its current step.")
                     if job.status == FineTuneJob.Status.RUNNING else _("The job is cancelled."))
    return redirect(job)
