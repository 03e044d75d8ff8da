from django.urls import path

from . import openai_api

urlpatterns = [
    path("models", openai_api.models, name="openai-models"),
    path("chat/completions", openai_api.chat_completions, name="openai-chat"),
    path("completions", openai_api.completions, name="openai-completions"),
]
