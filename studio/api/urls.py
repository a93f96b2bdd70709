from django.urls import path

import studio.lib.converters  # noqa: F401  (registers <id:>)
from studio.api import views

urlpatterns = [
    path("settings/api/", views.api_tokens, name="api_tokens"),
    path("settings/api/tokens", views.api_token_create, name="api_token_create"),
    path(
        "settings/api/tokens/<id:token_id>/revoke",
        views.api_token_revoke,
        name="api_token_revoke",
    ),
]
