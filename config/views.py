"""The pages that show every app (the home page, the API guide), so they live above them all."""
import json

from django.conf import settings
from django.shortcuts import render

from community.models import Thread
from models_hub.models import Resource


def home(request):
    threads = Thread.objects.visible_to(request.user).for_list().with_new_replies(request.user).latest()[:8]
    resources = Resource.objects.for_list().filter(is_published=True).ordered("-likes")[:6]
    runnable = Resource.objects.runnable().order_by("name")[:4]
    return render(request, "home.html", {"threads": threads, "resources": resources,
                                         "runnable": runnable})


def api_guide(request):
    """How to call the site from code: the OpenAI-compatible API for its runnable models, and the
    REST API for the rest, with the limits both share."""
    example = Resource.objects.runnable(request.user).order_by("repo_id").values_list("repo_id", flat=True).first()
    example = example or "MODEL"
    return render(request, "api.html", {
        "api_base": request.build_absolute_uri("/")[:-1], "example_model": example,
        "curl_body": json.dumps({"model": example, "stream": True,
                                 "messages": [{"role": "user", "content": "What is a large language model?"}]}),
        "max_active": settings.PLAYGROUND_MAX_ACTIVE_JOBS, "per_hour": settings.PLAYGROUND_JOBS_PER_HOUR,
        "max_streams": settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT,
        "max_prompts": settings.PLAYGROUND_MAX_PROMPTS_PER_REQUEST,
    })
