import json

from django.http import HttpRequest, HttpResponse

from studio.ops.health import health_check

PATH = "/healthz"


class HealthzMiddleware:
    """Answers GET/HEAD /healthz ahead of every other middleware: a load balancer probes with
    its own Host header (often a bare IP, not in ALLOWED_HOSTS) and over plain HTTP (which
    SECURE_SSL_REDIRECT would send elsewhere), and needs no session, CSRF or sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        parts = health_check()
        healthy = all(part.ok for part in parts)
        body = {
            "status": "ok" if healthy else "unavailable",
            "checks": {p.name: {"ok": p.ok, "ms": p.ms} for p in parts},
        }
        response = HttpResponse(
            json.dumps(body), content_type="application/json", status=200 if healthy else 503
        )
        response["Cache-Control"] = "no-store"
        return response
