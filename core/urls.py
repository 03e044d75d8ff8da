from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("markdown/preview/", views.markdown_preview, name="markdown-preview"),
]
