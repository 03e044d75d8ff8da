"""The home page: it shows every app, so it lives above them all."""
from django.shortcuts import render

from community.models import Thread
from models_hub.models import Resource


def home(request):
    threads = Thread.objects.visible_to(request.user).for_list().latest()[:8]
    resources = Resource.objects.for_list().filter(is_published=True).ordered("-likes")[:6]
    runnable = Resource.objects.runnable().order_by("name")[:4]
    return render(request, "home.html", {"threads": threads, "resources": resources,
                                         "runnable": runnable})
