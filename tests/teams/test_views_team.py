from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.api import services as api_services
from studio.api.models import ApiToken
from studio.teams.models import Invite, Membership
from tests.conftest import client_for
from tests.factories import add_member, make_user


def _invite(client, label="Dana", role="member") -> str:
    response = client.post(reverse("invite_create"), {"label": label, "role": role})
    assert response.status_code == 200
    return response.context["new_link"]


def test_the_team_page_lists_members_and_accounts(cast):
    body = client_for(cast.bob).get(reverse("team")).content.decode()
    assert "alice" in body and "bob" in body and "charlie" not in body
    assert "Local renderer — no AI" in body
    assert "Invite someone" not in body, "members do not see admin tools"


def test_an_admin_invites_and_the_link_lets_a_newcomer_set_a_password(cast):
    link = _invite(client_for(cast.alice), label="Dana", role="member")
    path = link.split("testserver", 1)[1]
    newcomer = Client()
    page = newcomer.get(path)
    assert page.status_code == 200 and b"Join Acme" in page.content
    response = newcomer.post(
        path, {"username": "dana", "password1": "plum-velvet-93", "password2": "plum-velvet-93"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="dana")
    assert membership.team == cast.acme and membership.role == "member"
    assert newcomer.get(reverse("gallery")).status_code == 200, "the newcomer is signed in"
    assert Client().login(username="dana", password="plum-velvet-93")


def test_an_invite_link_works_once(cast):
    path = _invite(client_for(cast.alice)).split("testserver", 1)[1]
    data = {"username": "dana", "password1": "plum-velvet-93", "password2": "plum-velvet-93"}
    assert Client().post(path, data).status_code == 302
    again = Client().post(path, {**data, "username": "eve"})
    assert again.status_code == 404 and b"does not work" in again.content


def test_only_the_hash_of_an_invite_token_is_stored(cast):
    link = _invite(client_for(cast.alice))
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in Invite.objects.values_list("token_hash", flat=True).get()


def test_an_expired_invite_is_refused(cast):
    path = _invite(client_for(cast.alice)).split("testserver", 1)[1]
    Invite.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert Client().get(path).status_code == 404


def test_a_weak_password_is_refused_with_a_reason(cast):
    path = _invite(client_for(cast.alice)).split("testserver", 1)[1]
    response = Client().post(path, {"username": "dana", "password1": "123", "password2": "123"})
    assert response.status_code == 400 and b"too short" in response.content
    assert not Membership.objects.filter(user__username="dana").exists()


def test_a_signed_in_user_joins_a_second_team_and_can_switch(cast):
    path = _invite(client_for(cast.alice)).split("testserver", 1)[1]
    client = client_for(cast.charlie)
    assert client.post(path).status_code == 302
    assert Membership.objects.filter(user=cast.charlie).count() == 2
    body = client.get(reverse("gallery")).content.decode()
    assert 'name="team"' in body, "a user in two teams gets a switcher"
    client.post(reverse("team_switch"), {"team": cast.other.pk})
    assert client.get(reverse("team")).context["membership"].team == cast.other


def test_switching_to_a_team_you_are_not_in_is_refused(cast):
    response = client_for(cast.bob).post(reverse("team_switch"), {"team": cast.other.pk})
    assert response.status_code == 404


def test_a_member_cannot_invite(cast):
    assert (
        client_for(cast.bob)
        .post(reverse("invite_create"), {"label": "x", "role": "admin"})
        .status_code
        == 403
    )
    assert not Invite.objects.exists()


def test_an_invite_needs_a_label(cast):
    response = client_for(cast.alice).post(
        reverse("invite_create"), {"label": "", "role": "member"}
    )
    assert response.status_code == 400 and b"This field is required" in response.content


def test_an_admin_changes_a_role(cast):
    bob = Membership.objects.get(user=cast.bob)
    client_for(cast.alice).post(reverse("member_role", args=[bob.pk]), {"role": "admin"})
    bob.refresh_from_db()
    assert bob.role == "admin"


def test_the_last_admin_cannot_step_down(cast):
    alice = Membership.objects.get(user=cast.alice, team=cast.acme)
    client = client_for(cast.alice)
    response = client.post(reverse("member_role", args=[alice.pk]), {"role": "member"}, follow=True)
    assert b"at least one admin" in response.content
    alice.refresh_from_db()
    assert alice.role == "admin"
    client.post(reverse("member_remove", args=[alice.pk]))
    assert Membership.objects.filter(pk=alice.pk).exists()


def test_an_admin_removes_a_member_whose_videos_stay(cast):
    from tests.factories import make_video

    video = make_video(cast.acme, cast.bob)
    bob = Membership.objects.get(user=cast.bob)
    client_for(cast.alice).post(reverse("member_remove", args=[bob.pk]))
    assert not Membership.objects.filter(pk=bob.pk).exists()
    assert cast.acme.videos.filter(pk=video.pk).exists()
    assert client_for(cast.bob).get(reverse("gallery")).status_code == 403


def test_removing_a_member_revokes_their_api_tokens_for_that_team_only(cast):
    add_member(cast.other, cast.bob)
    here, _ = api_services.api_token_create(user=cast.bob, team=cast.acme, name="acme script")
    there, _ = api_services.api_token_create(user=cast.bob, team=cast.other, name="other script")
    bob = Membership.objects.get(user=cast.bob, team=cast.acme)
    client_for(cast.alice).post(reverse("member_remove", args=[bob.pk]))
    assert ApiToken.objects.get(pk=here.pk).revoked_at is not None, "rejoining must not wake it"
    assert ApiToken.objects.get(pk=there.pk).revoked_at is None


def test_a_member_cannot_remove_anyone_and_nothing_is_revoked(cast):
    token, _ = api_services.api_token_create(user=cast.alice, team=cast.acme, name="alice script")
    alice = Membership.objects.get(user=cast.alice, team=cast.acme)
    assert client_for(cast.bob).post(reverse("member_remove", args=[alice.pk])).status_code == 403
    assert Membership.objects.filter(pk=alice.pk).exists()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_outsiders_cannot_touch_another_teams_members_or_invites(cast):
    bob = Membership.objects.get(user=cast.bob)
    _invite(client_for(cast.alice))
    invite = Invite.objects.get()
    charlie = client_for(cast.charlie)
    assert charlie.post(reverse("member_role", args=[bob.pk]), {"role": "admin"}).status_code == 404
    assert charlie.post(reverse("member_remove", args=[bob.pk])).status_code == 404
    assert charlie.post(reverse("invite_revoke", args=[invite.pk])).status_code == 404
    bob.refresh_from_db()
    assert bob.role == "member" and Invite.objects.exists()


def test_a_member_cannot_change_roles(cast):
    alice = Membership.objects.get(user=cast.alice, team=cast.acme)
    response = client_for(cast.bob).post(
        reverse("member_role", args=[alice.pk]), {"role": "member"}
    )
    assert response.status_code == 403


def test_an_admin_revokes_an_invite(cast):
    client = client_for(cast.alice)
    path = _invite(client).split("testserver", 1)[1]
    client.post(reverse("invite_revoke", args=[Invite.objects.get().pk]))
    assert Client().get(path).status_code == 404


def test_a_removed_member_is_not_shown_the_old_team(cast):
    other_admin = make_user("olga")
    add_member(cast.acme, other_admin, role="admin")
    alice = Membership.objects.get(user=cast.alice, team=cast.acme)
    client = client_for(cast.alice)
    response = client.post(reverse("member_remove", args=[alice.pk]))
    assert response.url == reverse("gallery"), "leaving the team lands on the gallery"
    assert client.get(reverse("gallery")).status_code == 403


def test_an_outsider_sees_only_their_own_team_page(cast):
    body = client_for(cast.charlie).get(reverse("team")).content.decode()
    assert "charlie" in body and "Other" in body
    assert "alice" not in body and "bob" not in body and "Acme" not in body


# Renaming the team


def test_an_admin_renames_the_team(cast):
    response = client_for(cast.alice).post(reverse("team_rename"), {"name": "  Night   shift "})
    assert response.status_code == 302
    cast.acme.refresh_from_db()
    assert cast.acme.name == "Night shift"
    assert "Night shift" in client_for(cast.bob).get(reverse("team")).text


def test_a_member_cannot_rename_the_team_nor_sees_the_form(cast):
    assert reverse("team_rename") not in client_for(cast.bob).get(reverse("team")).text
    response = client_for(cast.bob).post(reverse("team_rename"), {"name": "Bob's team"})
    assert response.status_code == 403
    cast.acme.refresh_from_db()
    assert cast.acme.name != "Bob's team"


def test_a_taken_or_empty_name_is_refused_without_naming_the_other_team(cast):
    client = client_for(cast.alice)
    for name, says in ((cast.other.name.upper(), "taken on this studio"), ("  ", "Give the team")):
        response = client.post(reverse("team_rename"), {"name": name})
        assert response.status_code == 400 and says in response.text
        assert 'team-rename" open' in response.text, "the form stays open with the reason"
    response = client.post(reverse("team_rename"), {"name": "x" * 101})
    assert response.status_code == 400 and "under 101 characters" in response.text
