from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from studio import conf
from studio.api import access, selectors, services
from studio.api.forms import (
    ApiTokenForm,
)
from studio.teams.access import require_membership


@require_GET
@login_required
def api_tokens(request):
    membership = require_membership(request)
    return render(request, "api/api_tokens.html", _tokens_context(request, membership))


def _tokens_context(request, membership, **extra) -> dict:
    base = conf.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")
    return {
        "tokens": selectors.user_api_tokens(user=request.user, team=membership.team),
        "form": ApiTokenForm(),
        "api_base": f"{base}/v1/minimax/",
        "openapi_url": base + reverse("api_openapi"),
        "limits": {
            "reads": conf.API_READ_RATE_LIMIT,
            "writes": conf.API_WRITE_RATE_LIMIT,
            "window": conf.API_RATE_WINDOW_SECONDS,
        },
        "nav": "api",
        **extra,
    }


@never_cache  # the answer holds the token in clear; no cache or back button may keep it
@require_POST
@login_required
def api_token_create(request):
    membership = require_membership(request)
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        context = _tokens_context(request, membership, form=form)
        return render(request, "api/api_tokens.html", context, status=400)
    token, raw = services.api_token_create(
        user=request.user, team=membership.team, name=form.cleaned_data["name"]
    )
    context = _tokens_context(request, membership, new_token=token, raw_token=raw)
    return render(request, "api/api_tokens.html", context)


@require_POST
@login_required
def api_token_revoke(request, token_id: int):
    token = access.get_token_for_owner(request.user, token_id)
    services.api_token_revoke(token=token)
    messages.success(request, f"{token.name} ({token.prefix}…) no longer works.")
    return redirect("api_tokens")
