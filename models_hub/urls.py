from django.urls import path

from . import views
from .repos import views as repo_views

app_name = "models_hub"
item = "<str:kind>/<str:owner>/<str:name>/"

urlpatterns = [
    path("", views.hub_index, name="index"),
    path("new/", views.submit, name="new"),
    path(item, views.detail, name="detail"),
    path(item + "edit/", views.edit, name="edit"),
    path(item + "delete/", views.delete, name="delete"),
    path(item + "like/", views.like, name="like"),
    path(item + "publish/", views.publish, name="publish"),
    path(item + "discussion/", views.discussion, name="discussion"),
    # Repositories (models and datasets): Files, History, a commit, uploads.
    path(item + "files/", repo_views.files, name="files"),
    path(item + "files/upload/", repo_views.upload, name="upload"),
    path(item + "files/delete/", repo_views.delete_file, name="delete-file"),
    path(item + "files/<str:rev>/", repo_views.files, name="files-at"),
    path(item + "files/<str:rev>/<path:path>", repo_views.files, name="file"),
    path(item + "commits/", repo_views.history, name="history"),
    path(item + "viewer/", repo_views.dataset_rows, name="viewer"),
    path(item + "runnable/", repo_views.runnable, name="runnable"),
    path(item + "commit/<str:sha>/", repo_views.commit_detail, name="commit"),
]
