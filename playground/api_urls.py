from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("jobs", api.JobViewSet, basename="job")
urlpatterns = [
    path("jobs/<int:pk>/stream/", api.stream, name="job-stream"),
    # Share tokens are secrets.token_urlsafe(): letters, digits, - and _, which `slug` matches.
    path("shared/<slug:token>/", api.SharedJobView.as_view(), name="shared-job"),
    path("shared/<slug:token>/stream/", api.shared_stream, name="shared-job-stream"),
    path("shared/<slug:token>/report/", api.SharedJobReportView.as_view(), name="shared-job-report"),
    *router.urls,
]
