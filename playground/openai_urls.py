from django.urls import path, re_path

from . import openai_api, openai_models

urlpatterns = [
    path("models", openai_models.models, name="openai-models"),
    # A model id is owner/name: deeper paths are the HF routes of a namespace called "v1".
    re_path(r"^models/(?P<model>[^/]+/[^/]+)$", openai_models.model, name="openai-model"),
    path("chat/completions", openai_api.chat_completions, name="openai-chat"),
    path("completions", openai_api.completions, name="openai-completions"),
]
