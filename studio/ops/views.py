import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from studio.ops.metrics import CONTENT_TYPE, metrics_page


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus scrapes this with `Authorization: Bearer $METRICS_TOKEN`; without the setting
    the page does not exist (queue sizes and account ids are not for everyone)."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN to turn them on.")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
        answer = JsonResponse({"error": "Send the METRICS_TOKEN as a Bearer token."}, status=401)
        answer["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    return HttpResponse(metrics_page(), content_type=CONTENT_TYPE)
