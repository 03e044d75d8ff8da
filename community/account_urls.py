from django.urls import include, path

from . import account_views

urlpatterns = [
    path("signup/", account_views.signup, name="signup"),
    path("settings/", account_views.settings_page, name="settings"),
    path("", include("django.contrib.auth.urls")),
]
