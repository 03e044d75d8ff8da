from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from community import account_views, profile_views
from playground import openai_models

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("core.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("community.account_urls")),
    path("u/<str:username>/", profile_views.profile, name="profile"),
    path("u/<str:username>/threads/", profile_views.activity, {"kind": "threads"}, name="profile-threads"),
    path("u/<str:username>/replies/", profile_views.activity, {"kind": "replies"}, name="profile-replies"),
    path("u/<str:username>/suspension/", account_views.suspension, name="suspension"),
    path("u/<str:username>/mute/", account_views.mute, name="mute"),
    path("forum/", include("community.urls")),
    path("hub/", include("models_hub.urls")),
    path("playground/", include("playground.urls")),
    path("", include("evaluation.urls")),
    path("arena/", include("evaluation.arena_urls")),
    path("finetune/", include("finetune.urls")),
    path("api/", views.api_guide, name="api-guide"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("v1/", include("playground.openai_urls")),
    # The Hugging Face–compatible API (HF_ENDPOINT=<site>); last, so the site's own paths win.
    path("", include("models_hub.hf_api.urls")),
    # Then whatever else is under /v1/ gets OpenAI's 404, not the site's page.
    re_path(r"^v1/", openai_models.unknown_url),
    # Last: the Hugging Face Hub's page addresses (/{ns}/{name}, …) for its client's links.
    path("", include("models_hub.hf_api.browse_urls")),
]

