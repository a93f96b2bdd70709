from django.urls import path

import studio.lib.converters  # noqa: F401  (registers <id:>)
from studio.teams import views

urlpatterns = [
    path("team/", views.team, name="team"),
    path("team/switch", views.team_switch, name="team_switch"),
    path("team/name", views.team_rename, name="team_rename"),
    path("team/invites", views.invite_create, name="invite_create"),
    path("team/invites/<id:invite_id>/revoke", views.invite_revoke, name="invite_revoke"),
    path("team/members/<id:membership_id>/role", views.member_role, name="member_role"),
    path("team/members/<id:membership_id>/remove", views.member_remove, name="member_remove"),
    path("settings/profile/", views.profile, name="profile"),
    path("settings/teams/<id:team_id>/leave", views.team_leave, name="team_leave"),
    path("join/<str:token>", views.join, name="join"),
]
