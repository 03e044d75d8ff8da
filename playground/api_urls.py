from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("jobs", api.JobViewSet, basename="job")
urlpatterns = [path("jobs/<int:pk>/stream/", api.stream, name="job-stream"), *router.urls]
