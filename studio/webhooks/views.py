from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from studio.lib.errors import ServiceError
from studio.lib.forms import add_service_error
from studio.teams.access import require_admin
from studio.webhooks import deliveries as callbacks
from studio.webhooks import selectors, services
from studio.webhooks.forms import (
    TeamApiForm,
)


@never_cache  # shows the signing secret
@require_GET
@login_required
def webhooks(request):
    """The team's API settings, signing secret and recent deliveries. The deliveries part is
    polled, and that request has no side effects (the full page makes the secret on first use)."""
    membership = require_admin(request)
    deliveries = selectors.team_deliveries(team=membership.team)
    if request.htmx:
        return render(request, "webhooks/webhooks.html#deliveries", {"deliveries": deliveries})
    return render(request, "webhooks/webhooks.html", _webhooks_context(membership, deliveries))


def _webhooks_context(membership, deliveries=None, **extra) -> dict:
    team = membership.team
    settings_form = TeamApiForm(
        initial={
            "api_strict": team.api_strict,
            "webhook_progress": team.webhook_progress,
            "user_queue_limit": team.user_queue_limit,
            "team_queue_limit": team.team_queue_limit,
            "default_reply_url": team.default_reply_url,
        }
    )
    return {
        "form": settings_form,
        "signing": (signing := services.signing_secret_ensure(team=team)),
        "secret": signing.secret,
        "previous_signs": len(signing.signing()) > 1,
        "deliveries": selectors.team_deliveries(team=team) if deliveries is None else deliveries,
        "nav": "webhooks",
        **extra,
    }


@require_POST
@login_required
def webhook_rotate(request):
    membership = require_admin(request)
    services.team_webhook_rotate(team=membership.team)
    messages.success(
        request, "New signing secret. The old one keeps signing beside it for 24 hours."
    )
    return redirect("webhooks")


@require_POST
@login_required
def webhook_redeliver(request, delivery_id: int):
    membership = require_admin(request)
    delivery = selectors.delivery_for_admin(team=membership.team, delivery_id=delivery_id)
    callbacks.callback_redeliver(delivery=delivery)
    messages.success(
        request, f"{delivery.get_event_display()} callback {delivery.msg_id} is being sent again."
    )
    return redirect(reverse("webhooks") + "#deliveries")


@require_POST
@login_required
def team_api_settings(request):
    membership = require_admin(request)
    form = TeamApiForm(request.POST)
    if form.is_valid():
        try:
            services.team_api_settings(team=membership.team, **form.cleaned_data)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "API settings saved.")
            return redirect("webhooks")
    messages.error(request, "The API settings were not saved; see the form.")
    context = _webhooks_context(membership, form=form)
    return render(request, "webhooks/webhooks.html", context, status=400)
