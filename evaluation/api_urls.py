from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("evaluations", api.RunViewSet, basename="evaluation")
urlpatterns = [
    path("evaluations/<int:pk>/stream/", api.stream, name="evaluation-stream"),
    path("leaderboards/", api.leaderboards, name="leaderboards"),
    path("leaderboards/<str:owner>/<str:name>/", api.suite_leaderboard, name="leaderboard"),
    *router.urls,
]
