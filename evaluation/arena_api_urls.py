"""The arena's API, mounted at /api/v1/arena/."""
from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from .arena import api

app_name = "arena-api"

router = SimpleRouter()
router.register("battles", api.BattleViewSet, basename="battle")
urlpatterns = [
    re_path(r"^battles/(?P<pk>[0-9]+)/stream/(?P<side>[ab])/$", api.battle_stream, name="battle-stream"),
    path("leaderboard/", api.LeaderboardView.as_view(), name="leaderboard"),
    path("moderation/void/", api.VoidVotesView.as_view(), name="void-votes"),
    *router.urls,
]
