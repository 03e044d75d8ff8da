from django.urls import include, path

from . import account_views

urlpatterns = [
    path("signup/", account_views.signup, name="signup"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("settings/", account_views.settings_page, name="settings"),
    path("email/confirm/<str:token>/", account_views.email_confirm, name="email-confirm"),
    path("email/unsubscribe/<str:token>/", account_views.email_unsubscribe, name="email-unsubscribe"),
    path("password_reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path("", include("django.contrib.auth.urls")),
]
