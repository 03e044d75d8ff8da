"""Hub pages: the catalogue with facets, a resource page, submit and edit forms."""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core import search
from core.charts import daily_counts, sparkline

from . import services
from .forms import ResourceForm
from .models import Resource
from .permissions import can_change
from .querysets import FILTER_PARAMS, SORTS, related_of
from .usage import usage_of

FACETS_TTL_S = 60  # facet counts may lag a minute, as on the Hugging Face Hub; the list never does


def _facets_key(params, query: str, user) -> str:
    """Counted over what the viewer may see (`visible_to`): moderators see every draft, members
    their own, visitors none; a key shared between them would show one viewer's drafts to another."""
    viewer = "staff" if user.is_staff else f"user:{user.pk}" if user.is_authenticated else "public"
    chosen = sorted((k, params[k]) for k in FILTER_PARAMS if params.get(k))
    digest = hashlib.sha256(repr((chosen, query)).encode()).hexdigest()[:32]
    return f"hub:facets:{viewer}:{digest}"


def hub_index(request):
    params = request.GET
    visible = Resource.objects.visible_to(request.user)
    query = params.get("q", "").strip()
    if refusal := search.query_too_long(query):
        messages.error(request, refusal)
        query = ""
    if query:
        visible = visible.filter(pk__in=search.matching(query, kinds=[search.Kind.RESOURCE]).values("object_id"))
    resources = visible.filtered(params, viewer=request.user)
    facets = cache.get_or_set(_facets_key(params, query, request.user),
                              lambda: visible.facet_counts(params, viewer=request.user), FACETS_TTL_S)
    sort = params.get("sort") if params.get("sort") in SORTS else "trending"  # as Hugging Face's lists
    page = Paginator(resources.for_list(request.user).ordered(sort), 24).get_page(params.get("page"))
    active = {k: params[k] for k in FILTER_PARAMS if params.get(k)}
    return render(request, "models_hub/index.html", {
        "page": page, "facets": facets, "query": query, "sort": sort, "sorts": SORTS,
        "active": active, "kinds": Resource.Kind.choices, "max_length": settings.SEARCH_MAX_QUERY_LENGTH,
    })


def _get(request, kind: str, owner: str, name: str) -> Resource:
    return get_object_or_404(Resource.objects.for_list(request.user).visible_to(request.user).liked_by(request.user)
                             .select_related("thread", "runtime", "submitter"),
                             kind=kind, owner=owner, name=name)


def detail(request, kind: str, owner: str, name: str):
    resource = _get(request, kind, owner, name)
    likes = daily_counts(resource.like_set.all(), "created_at")
    api_base = request.build_absolute_uri("/")[:-1]
    return render(request, "models_hub/detail.html", {
        "resource": resource, "related": related_of(resource, request.user),
        "likes_chart": sparkline(likes, label=ngettext("%(n)d like in the last 30 days", "%(n)d likes in the last 30 days",
                                                       sum(likes)) % {"n": sum(likes)}),
        "can_change": can_change(request.user, resource), "usage": usage_of(resource, request.user),
        "api_base": api_base, "api_url": f"{api_base}/api/v1/resources/{resource.pk}/",
    })


@login_required
@require_POST
def like(request, kind: str, owner: str, name: str):
    resource = _get(request, kind, owner, name)
    resource = services.set_like(user=request.user, resource=resource, liked=request.POST.get("like") == "1")
    if request.headers.get("HX-Request"):
        return render(request, "models_hub/includes/like.html", {"resource": resource})
    return redirect(resource)


@login_required
@require_POST
def publish(request, kind: str, owner: str, name: str):
    resource = services.publish_resource(user=request.user, resource=_get(request, kind, owner, name))
    messages.success(request, _("%(repo)s is published: everyone can see and run it.") % {"repo": resource.repo_id})
    return redirect(resource)


@login_required
@require_POST
def discussion(request, kind: str, owner: str, name: str):
    thread = services.ensure_discussion(resource=_get(request, kind, owner, name), user=request.user)
    return redirect(thread)


def _save(request, form: ResourceForm, resource: Resource | None):
    data = dict(form.cleaned_data)
    try:
        return services.save_resource(user=request.user, data=data, resource=resource)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def submit(request):
    form = ResourceForm(request.POST or None, initial={"kind": request.GET.get("kind", "model")},
                        user=request.user)
    if request.method == "POST" and form.is_valid():
        resource = _save(request, form, None)
        if resource is not None:
            return redirect(resource)
    return render(request, "models_hub/form.html", {"form": form, "resource": None})


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, kind: str, owner: str, name: str):
    resource = _get(request, kind, owner, name)
    if not can_change(request.user, resource):
        raise PermissionDenied
    form = ResourceForm(request.POST or None, initial=ResourceForm.initial_for(resource),
                        user=request.user, resource=resource)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, resource)
        if saved is not None:
            return redirect(saved)
    return render(request, "models_hub/form.html", {"form": form, "resource": resource})


@login_required
@require_POST
def delete(request, kind: str, owner: str, name: str):
    resource = _get(request, kind, owner, name)
    try:
        services.delete_resource(user=request.user, resource=resource)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(resource)
    return redirect("models_hub:index")
