from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("resources", api.ResourceViewSet, basename="resource")
urlpatterns = router.urls
