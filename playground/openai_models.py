"""/v1/models, one model, and OpenAI's answer to a /v1/ path that does not exist."""
from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from models_hub.models import Resource

from .openai_api import authenticated, only
from .openai_request import error


def _model(resource: Resource) -> dict:
    return {"id": resource.repo_id, "object": "model", "created": int(resource.created_at.timestamp()),
            "owned_by": resource.owner}


@only("GET", "HEAD")  # the SDK's models.delete() gets OpenAI's 405
async def models(request):
    """The models the key's owner may run."""
    user, failure = await authenticated(request)
    if failure:
        return failure
    return JsonResponse({"object": "list", "data": [
        _model(resource) async for resource in Resource.objects.runnable(user).order_by("repo_id")]})


@only("GET", "HEAD")
async def model(request, model: str):
    """One runnable model, as the OpenAI SDK's `models.retrieve` asks for it."""
    user, failure = await authenticated(request)
    if failure:
        return failure
    resource = await Resource.objects.runnable(user).filter(repo_id=model).afirst()
    if resource is None:
        return error(f"The model '{model}' does not exist.", status=404, param="model", code="model_not_found")
    return JsonResponse(_model(resource))


@csrf_exempt  # a client's POST to a mistyped path gets this answer, not the CSRF page
async def unknown_url(request):
    """OpenAI's 404 for a path it does not serve, in its error shape rather than the site's page."""
    return error(f"Invalid URL ({request.method} {request.path}).", status=404, code="unknown_url")
