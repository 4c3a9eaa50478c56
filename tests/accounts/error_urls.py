"""The console's URLconf plus two views that fail, for the error-page tests."""

from django.core.exceptions import BadRequest
from django.urls import path

from console.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("a bug")


def bad(request):
    raise BadRequest("malformed")


urlpatterns = [*urlpatterns, path("boom/", boom), path("bad/", bad)]
