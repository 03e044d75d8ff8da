from django.urls import path

from . import views

app_name = "models_hub"
item = "<str:kind>/<str:owner>/<str:name>/"

urlpatterns = [
    path("", views.hub_index, name="index"),
    path("new/", views.submit, name="new"),
    path(item, views.detail, name="detail"),
    path(item + "edit/", views.edit, name="edit"),
    path(item + "delete/", views.delete, name="delete"),
    path(item + "like/", views.like, name="like"),
    path(item + "discussion/", views.discussion, name="discussion"),
]
