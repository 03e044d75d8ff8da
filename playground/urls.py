from django.urls import path

from . import views

app_name = "playground"

urlpatterns = [
    path("", views.playground, name="index"),
    path("runs/", views.runs, name="runs"),
    path("usage/", views.usage, name="usage"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/share/", views.share, name="share"),
    path("runs/<int:pk>/delete/", views.delete, name="delete"),
    path("runs/<int:pk>/post/", views.post_to_forum, name="post"),
    # A shared run, by its unguessable token (secrets.token_urlsafe: letters, digits, - and _).
    path("s/<slug:token>/", views.shared_run, name="shared"),
    path("s/<slug:token>/report/", views.report, name="report"),
    path("review/", views.review, name="review"),
]
