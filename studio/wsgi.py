import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
django_application = get_wsgi_application()

from studio import middleware  # noqa: E402 (needs the settings loaded above)
from studio.lib import textguard  # noqa: E402


def application(environ, start_response):
    """Django's application, behind the one check it cannot make itself: building the request
    decodes the query string with the Content-Type's charset, so `charset=zlib` (a binary
    codec) or an RFC 2231 parameter in an unknown codec fail there, before any middleware, as a
    500. The same check runs again in TextGuardMiddleware, for servers that skip this module
    (the test client, the live server)."""
    problem = textguard.content_type_problem(environ.get("CONTENT_TYPE", ""))
    if problem is None:
        return django_application(environ, start_response)
    response = middleware.refusal(environ.get("PATH_INFO", ""), problem)
    start_response("400 Bad Request", list(response.items()))
    return [response.content]
