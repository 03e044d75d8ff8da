from django.urls import path, re_path

from . import openai_api, openai_models

urlpatterns = [
    path("models", openai_models.models, name="openai-models"),
    path("models/<path:model>", openai_models.model, name="openai-model"),
    path("chat/completions", openai_api.chat_completions, name="openai-chat"),
    path("completions", openai_api.completions, name="openai-completions"),
    re_path(r"^(?P<rest>.*)$", openai_models.unknown_url),
]
