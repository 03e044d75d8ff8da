from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("categories", api.CategoryViewSet, basename="category")
router.register("threads", api.ThreadViewSet, basename="thread")
router.register("posts", api.PostViewSet, basename="post")

urlpatterns = [
    path("auth/token/", api.AuthTokenView.as_view(), name="api-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("users/<str:username>/", api.UserDetailView.as_view(), name="api-user"),
    path("users/<str:username>/suspension/", api.UserSuspensionView.as_view(), name="api-user-suspension"),
    path("users/<str:username>/mute/", api.UserMuteView.as_view(), name="api-user-mute"),
    path("search/", api.SearchView.as_view(), name="api-search"),
    path("notifications/", api.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read/", api.NotificationReadView.as_view(), name="api-notifications-read"),
    path("", include(router.urls)),
]
