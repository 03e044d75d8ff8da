from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("finetunes", api.FineTuneViewSet, basename="finetune")
urlpatterns = [
    path("finetunes/<int:pk>/stream/", api.stream, name="finetune-stream"),
    *router.urls,
]
