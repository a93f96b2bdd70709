"""Upstream callbacks (no session: MiniMax calls these; the token in the URL is the secret)."""

import json

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from studio.lib import textguard
from videos import services
from videos.models import Attempt


@csrf_exempt
@require_POST
def minimax_callback(request, token: str):
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        payload = None
    problem = _callback_problem(payload)
    if problem:
        return JsonResponse({"error": problem}, status=400)
    answer = services.video_upstream_callback(token=token, payload=payload)
    if answer is None:
        raise Http404("Unknown callback")
    return JsonResponse(answer)


def _callback_problem(payload) -> str | None:
    if not isinstance(payload, dict):
        return "Send a JSON object."
    limit = Attempt._meta.get_field("upstream_id").max_length  # where task_id is kept
    if len(str(payload.get("task_id") or "")) > limit:
        return f"task_id is longer than a MiniMax task id ({limit} characters)."
    return textguard.json_problem(payload)
