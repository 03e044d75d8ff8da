from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("leaderboards/", views.leaderboards, name="leaderboards"),
    path("leaderboards/<str:owner>/<str:name>/", views.suite_leaderboard, name="leaderboard"),
    path("evaluations/", views.my_runs, name="mine"),
    path("evaluations/new/", views.new_run, name="new"),
    path("evaluations/<int:pk>/", views.run_detail, name="run"),
    path("evaluations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("evaluations/<int:pk>/discuss/", views.discuss, name="discuss"),
]
