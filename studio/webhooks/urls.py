from django.urls import path

import studio.lib.converters  # noqa: F401  (registers <id:>)
from studio.webhooks import views

urlpatterns = [
    path("team/webhooks/", views.webhooks, name="webhooks"),
    path("team/webhooks/settings", views.team_api_settings, name="team_api_settings"),
    path("team/webhooks/rotate", views.webhook_rotate, name="webhook_rotate"),
    path(
        "team/webhooks/deliveries/<id:delivery_id>/redeliver",
        views.webhook_redeliver,
        name="webhook_redeliver",
    ),
]
