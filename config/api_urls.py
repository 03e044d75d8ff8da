"""All of /api/v1/: each app brings its own routes."""
from django.urls import include, path

urlpatterns = [
    path("", include("community.api_urls")),
    path("", include("models_hub.api_urls")),
    path("playground/", include("playground.api_urls")),
    path("", include("evaluation.api_urls")),
    path("arena/", include("evaluation.arena_api_urls")),
    path("", include("finetune.api_urls")),
]
