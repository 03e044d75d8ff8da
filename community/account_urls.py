from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import account_views

urlpatterns = [
    path("signup/", account_views.signup, name="signup"),
    path("settings/", account_views.settings_page, name="settings"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("django.contrib.auth.urls")),
]
