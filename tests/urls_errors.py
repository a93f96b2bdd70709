"""The studio's URLs plus views that fail, for the error-page and logging tests only."""

from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.urls import path

from studio.urls import handler400, handler500  # noqa: F401
from studio.urls import urlpatterns as studio_urlpatterns

CRASH = "kaboom: the test view failed on purpose"


def crash(request):
    raise RuntimeError(CRASH)


def crash_in_the_database(request):
    get_user_model().objects.count()
    raise AssertionError("the database answered, so this test proves nothing")


def bad_request(request):
    raise SuspiciousOperation("a request Django refuses as malformed")


def failing_task():
    """A django-q2 task that fails."""
    raise RuntimeError(CRASH)


urlpatterns = [
    path("bad-request/", bad_request),
    path("crash/", crash),
    path("v1/minimax/crash/", crash),  # under the API's prefix
    path("crash-in-the-database/", crash_in_the_database),
    *studio_urlpatterns,
]
