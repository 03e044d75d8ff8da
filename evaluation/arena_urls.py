"""The arena's pages, mounted at /arena/."""
from django.urls import path

from .arena import views

app_name = "arena"

urlpatterns = [
    path("", views.index, name="index"),
    path("battles/", views.battles, name="battles"),
    path("battles/<int:pk>/", views.battle, name="battle"),
    path("battles/<int:pk>/vote/", views.vote, name="vote"),
    path("battles/<int:pk>/stop/", views.stop, name="stop"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("moderation/", views.moderation, name="moderation"),
]
