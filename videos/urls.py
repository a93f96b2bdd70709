from django.urls import path, register_converter

from videos import views


class IdConverter:
    """A row id in a path: ASCII digits, at most 18 (under 2**63). Django's <int:> takes any
    number of digits, and a foreign-key lookup past 64 bits fails on SQLite (OverflowError)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("videos/new", views.video_create, name="video_create"),
    path("videos/<id:video_id>/card", views.video_card, name="video_card"),
    path("videos/<id:video_id>/cancel", views.video_cancel, name="video_cancel"),
    path("videos/<id:video_id>/delete", views.video_delete, name="video_delete"),
    path("videos/<id:video_id>/video.mp4", views.video_file, {"kind": "mp4"}, name="video_mp4"),
    path(
        "videos/<id:video_id>/poster.jpg",
        views.video_file,
        {"kind": "poster"},
        name="video_poster",
    ),
    path("images/<id:image_id>", views.image_file, name="image_file"),
    path("team/", views.team, name="team"),
    path("team/switch", views.team_switch, name="team_switch"),
    path("team/invites", views.invite_create, name="invite_create"),
    path("team/invites/<id:invite_id>/revoke", views.invite_revoke, name="invite_revoke"),
    path("team/members/<id:membership_id>/role", views.member_role, name="member_role"),
    path("team/members/<id:membership_id>/remove", views.member_remove, name="member_remove"),
    path("team/accounts/", views.accounts, name="accounts"),
    path("team/accounts/new", views.account_new, name="account_new"),
    path("team/accounts/<id:account_id>/edit", views.account_edit, name="account_edit"),
    path("team/accounts/<id:account_id>/toggle", views.account_toggle, name="account_toggle"),
    path("team/accounts/<id:account_id>/resume", views.account_resume, name="account_resume"),
    path("team/accounts/<id:account_id>/delete", views.account_delete, name="account_delete"),
    path("team/accounts/<id:account_id>/test", views.account_test, name="account_test"),
    path("team/webhooks/", views.webhooks, name="webhooks"),
    path("team/webhooks/settings", views.team_api_settings, name="team_api_settings"),
    path("team/webhooks/rotate", views.webhook_rotate, name="webhook_rotate"),
    path(
        "team/webhooks/deliveries/<id:delivery_id>/redeliver",
        views.webhook_redeliver,
        name="webhook_redeliver",
    ),
    path("settings/profile/", views.profile, name="profile"),
    path("settings/teams/<id:team_id>/leave", views.team_leave, name="team_leave"),
    path("settings/api/", views.api_tokens, name="api_tokens"),
    path("settings/api/tokens", views.api_token_create, name="api_token_create"),
    path(
        "settings/api/tokens/<id:token_id>/revoke",
        views.api_token_revoke,
        name="api_token_revoke",
    ),
    path("join/<str:token>", views.join, name="join"),
    path("hooks/minimax/<str:token>/", views.minimax_callback, name="minimax_callback"),
]
