from django.urls import path

from . import views

app_name = "finetune"

urlpatterns = [
    path("", views.jobs, name="jobs"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/charts/", views.charts, name="charts"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
]
