"""Signing in (and being paused after failures), passwords, the profile, and leaving a team."""

import re
import subprocess
import sys
from datetime import timedelta
from ipaddress import ip_network

import pytest
import requests
from axes.models import AccessAttempt
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Sum
from django.test import Client, RequestFactory
from django.urls import reverse

from studio.api import services as api_services
from studio.api.models import ApiToken
from studio.settings import _email_config
from studio.teams.models import Membership
from studio.teams.signin import client_ip
from tests.conftest import ROOT, client_for
from tests.factories import PASSWORD, add_member, make_user, make_video
from videos.models import Video

NEW_PASSWORD = "violet-harbour-lantern-58"


@pytest.fixture
def throttle(settings, conf):
    """The sign-in throttle on, pausing after 3 failures for 15 minutes; the live server's
    clients reach it over loopback, which is a trusted proxy, so X-Forwarded-For names them."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    conf.TRUSTED_PROXIES = [ip_network("127.0.0.0/8"), ip_network("::1")]
    return settings


class Visitor:
    """One browser-less client of the live server, coming from `ip` through the proxy."""

    def __init__(self, live_server, ip: str | None = None):
        self.base = live_server.url
        self.http = requests.Session()
        if ip:
            self.http.headers["X-Forwarded-For"] = ip

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=10, allow_redirects=False)

    def post(self, path: str, data: dict, **headers: str) -> requests.Response:
        if "csrftoken" not in self.http.cookies:
            self.get(reverse("login"))
        data = {**data, "csrfmiddlewaretoken": self.http.cookies["csrftoken"]}
        return self.http.post(
            self.base + path, data=data, headers=headers, timeout=10, allow_redirects=False
        )

    def sign_in(self, username: str, password: str = PASSWORD) -> requests.Response:
        return self.post(reverse("login"), {"username": username, "password": password})


def _signed_in(response: requests.Response) -> bool:
    return response.status_code == 302 and response.headers["Location"] == reverse("gallery")


def _failures(**lookup) -> int:
    return AccessAttempt.objects.filter(**lookup).aggregate(n=Sum("failures_since_start"))["n"] or 0


# Throttling, over real HTTP


def test_failed_sign_ins_for_one_username_pause_it_from_every_address(cast, live_server, throttle):
    answers = [Visitor(live_server, f"203.0.113.{n}").sign_in("bob", "wrong") for n in (1, 2, 3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Please enter a correct username and password" in answers[0].text
    paused = Visitor(live_server, "198.51.100.20").sign_in("bob")
    assert paused.status_code == 429, "the right password is refused during the pause"
    assert "Too many wrong passwords for bob" in paused.text
    assert _signed_in(Visitor(live_server, "203.0.113.1").sign_in("alice")), "others sign in"


def test_failed_sign_ins_from_one_address_pause_every_username_there(cast, live_server, throttle):
    visitor = Visitor(live_server, "203.0.113.7")
    answers = [visitor.sign_in(name, "wrong").status_code for name in ("alice", "bob", "mallory")]
    assert answers == [200, 200, 429]
    paused = Visitor(live_server, "203.0.113.7").sign_in("charlie")
    assert paused.status_code == 429 and "Too many failed sign-ins from your network" in paused.text
    assert _signed_in(Visitor(live_server, "203.0.113.8").sign_in("charlie"))


def test_the_pause_ends_after_the_cool_down_and_tries_during_it_do_not_extend_it(
    cast, live_server, throttle
):
    visitor = Visitor(live_server, "203.0.113.9")
    for _ in range(3):
        visitor.sign_in("bob", "wrong")
    for password in ("wrong", PASSWORD):
        assert visitor.sign_in("bob", password).status_code == 429
    assert _failures(username="bob") == 3, "tries during the pause are not counted"
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=14))
    assert visitor.sign_in("bob").status_code == 429, "a minute of the pause is left"
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=1, seconds=1))
    assert _signed_in(visitor.sign_in("bob"))


def test_a_success_forgives_only_that_usernames_failures_from_that_address(
    cast, live_server, throttle
):
    visitor = Visitor(live_server, "203.0.113.10")
    for _ in range(2):
        visitor.sign_in("bob", "wrong")
    assert _signed_in(Visitor(live_server, "203.0.113.10").sign_in("charlie"))
    assert visitor.sign_in("bob", "wrong").status_code == 429, (
        "charlie signing in from the same address must not wipe the guesses at bob's password"
    )

    AccessAttempt.objects.all().delete()
    elsewhere = Visitor(live_server, "198.51.100.30")
    elsewhere.sign_in("alice", "wrong")
    visitor.sign_in("alice", "wrong")
    assert _signed_in(Visitor(live_server, "203.0.113.10").sign_in("alice"))
    assert _failures(username="alice", ip_address="203.0.113.10") == 0, "her own typos: forgiven"
    assert _failures(username="alice", ip_address="198.51.100.30") == 1, "elsewhere: kept"


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(
    cast, live_server, throttle, conf
):
    conf.TRUSTED_PROXIES = []
    answers = [
        Visitor(live_server, f"203.0.113.{n}").sign_in(name, "wrong").status_code
        for n, name in ((21, "alice"), (22, "bob"), (23, "mallory"))
    ]
    assert answers == [200, 200, 429], "all three came from 127.0.0.1, whatever they claimed"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_api_tokens_work_while_sign_in_is_paused(cast, live_server, throttle):
    _, raw = api_services.api_token_create(user=cast.bob, team=cast.acme, name="script")
    visitor = Visitor(live_server)
    for _ in range(3):
        visitor.sign_in("bob", "wrong")
    assert visitor.sign_in("bob").status_code == 429
    answer = requests.get(
        f"{live_server.url}/v1/minimax/videos/",
        headers={"Authorization": f"Bearer {raw}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert _failures(username="bob") == 3, "the API does not count as a sign-in"


def test_a_password_reset_over_http_lifts_the_pause_on_the_username(cast, live_server, throttle):
    cast.bob.email = "bob@example.com"
    cast.bob.save()
    for n in (1, 2, 3):
        Visitor(live_server, f"203.0.113.{40 + n}").sign_in("bob", "wrong")
    bob = Visitor(live_server, "198.51.100.50")
    assert bob.sign_in("bob").status_code == 429

    sent = bob.post(reverse("password_reset"), {"email": "bob@example.com"})
    assert sent.status_code == 302 and sent.headers["Location"] == reverse("password_reset_done")
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    link = re.search(r"http://\S+/password-reset/\S+/", mail.outbox[0].body).group(0)
    form_page = bob.http.get(link, timeout=10)  # swaps the token for a session, then the form
    assert form_page.status_code == 200 and "Set a new password" in form_page.text
    done = bob.post(
        form_page.url.removeprefix(live_server.url),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.headers["Location"] == reverse("password_reset_complete")
    assert _signed_in(bob.sign_in("bob", NEW_PASSWORD)), "the pause on bob is lifted"


# Which address is the client's


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.7", "", "198.51.100.7"),
        ("198.51.100.7", "203.0.113.5", "198.51.100.7"),  # not from a proxy: header ignored
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the client wrote 6.6.6.6
        ("127.0.0.1", "203.0.113.5, 10.0.0.2", "203.0.113.5"),  # two proxies
        ("127.0.0.1", "203.0.113.5:51234", "203.0.113.5"),
        ("127.0.0.1", "[2001:db8::5]:443", "2001:db8::5"),
        ("127.0.0.1", "junk, 10.0.0.2", "10.0.0.2"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("::ffff:198.51.100.7", "", "198.51.100.7"),
        ("", "203.0.113.5", "203.0.113.5"),  # a unix socket
    ],
)
def test_the_client_address_is_the_nearest_one_that_is_not_a_trusted_proxy(
    conf, peer, forwarded, client
):
    conf.TRUSTED_PROXIES = [ip_network("127.0.0.0/8"), ip_network("10.0.0.0/8")]
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == client


# The sign-in page


def test_the_paused_sign_in_page_says_how_long_and_offers_a_reset(cast, throttle):
    client = Client(REMOTE_ADDR="203.0.113.60")
    for _ in range(3):
        response = client.post(reverse("login"), {"username": "bob", "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 429 and response["Retry-After"] == "900"
    assert "paused for 15 more minutes" in body
    assert reverse("password_reset") in body and "lifts the pause at once" in body
    assert 'value="bob"' in body, "the username stays filled in"
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=13, seconds=5))
    again = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
    assert "paused for 2 more minutes" in again.content.decode()


def test_the_sign_in_page_links_to_the_password_reset(db):
    assert reverse("password_reset") in Client().get(reverse("login")).content.decode()


# Passwords


def test_a_member_changes_the_password_and_stays_signed_in(cast):
    client = client_for(cast.bob)
    elsewhere = client_for(cast.bob)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    assert client.get(reverse("password_change_done")).status_code == 200
    assert client.get(reverse("gallery")).status_code == 200
    assert elsewhere.get(reverse("gallery")).status_code == 302, "other sessions end"
    assert Client().login(username="bob", password=NEW_PASSWORD)


def test_a_wrong_old_password_changes_nothing(cast):
    response = client_for(cast.bob).post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert (
        response.status_code == 200 and b"old password was entered incorrectly" in response.content
    )
    assert Client().login(username="bob", password=PASSWORD)


def test_the_password_change_page_needs_sign_in(db):
    response = Client().get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_forgotten_password_is_reset_through_the_emailed_link(cast):
    cast.bob.email = "bob@example.com"
    cast.bob.save()
    client = Client()
    response = client.post(reverse("password_reset"), {"email": "BOB@example.com"})
    assert response.url == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.subject == "Reset your Studio password" and "bob" in message.body
    path = re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)
    form_url = client.get(path).url
    response = client.post(form_url, {"new_password1": "123", "new_password2": "123"})
    assert b"too short" in response.content, "the validators still apply"
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.url == reverse("password_reset_complete")
    assert Client().login(username="bob", password=NEW_PASSWORD)
    used = Client().get(path, follow=True)
    assert b"This link does not work" in used.content, "a link works once"


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(cast):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


# Email settings


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smtp.example.com", "EMAIL_URL must start with console://, smtp://, memory://"),
        ("imap://mail.example.com", "EMAIL_URL must start with"),
        ("smtp://mail.example.com?tsl=1", "unknown option 'tsl'"),
        ("smtp://mail.example.com?tls=yes", "tls must be 1 or 0"),
        ("smtp://mail.example.com?tls=1&ssl=1", "not both"),
        ("smtp://mail.example.com:submission", "not a valid mail URL"),
        ("smtp://mail.example.com?timeout=soon", "not a valid mail URL"),
    ],
)
def test_a_bad_email_url_is_refused_with_what_to_fix(url, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        _email_config(url)


def test_an_smtp_email_url_gives_host_port_credentials_and_tls():
    config = _email_config("smtp://studio:p%40ss@mail.example.com:587?tls=1&timeout=5")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("mail.example.com", 587)
    assert (config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == ("studio", "p@ss")
    assert config["EMAIL_USE_TLS"] and not config["EMAIL_USE_SSL"]
    assert config["EMAIL_TIMEOUT"] == 5


def _check(**env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_studio_refuses_to_start_with_a_bad_email_url_or_proxy_list():
    assert "unknown option 'tsl'" in _check(EMAIL_URL="smtp://h?tsl=1").stderr
    result = _check(TRUSTED_PROXIES="10.0.0.0/8,proxy.internal")
    assert "TRUSTED_PROXIES: 'proxy.internal' is not an address" in result.stderr
    assert "must be 1 or more" in _check(SIGNIN_FAILURE_LIMIT="0").stderr


# Profile


def test_the_profile_lists_teams_with_roles_and_the_ways_to_password_and_tokens(cast):
    add_member(cast.acme, cast.charlie)
    body = client_for(cast.charlie).get(reverse("profile")).content.decode()
    assert re.search(r"Acme.*?Member", body, re.S) and re.search(r"Other.*?Admin", body, re.S)
    for url in (reverse("password_change"), reverse("api_tokens")):
        assert f'href="{url}"' in body
    assert reverse("team_leave", args=[cast.acme.pk]) in body


def test_the_username_in_the_header_leads_to_the_profile(cast):
    body = client_for(cast.bob).get(reverse("gallery")).content.decode()
    assert f'class="profile-link" href="{reverse("profile")}"' in body


def test_a_malformed_email_is_refused_and_nothing_is_saved(cast):
    response = client_for(cast.bob).post(reverse("profile"), {"email": "bob@"})
    assert response.status_code == 400 and b"Enter a valid email address." in response.content
    cast.bob.refresh_from_db()
    assert cast.bob.email == ""


def test_the_email_is_saved(cast):
    response = client_for(cast.bob).post(reverse("profile"), {"email": " Bob@Example.COM "})
    assert response.status_code == 302
    cast.bob.refresh_from_db()
    assert cast.bob.email == "Bob@example.com"


def test_someone_in_no_team_has_a_profile_too(db):
    body = client_for(make_user("drifter")).get(reverse("profile")).content.decode()
    assert "You are not in a team" in body


# Leaving a team


def test_a_member_confirms_and_leaves_the_team(cast):
    video = make_video(cast.acme, cast.bob)
    token, _ = api_services.api_token_create(user=cast.bob, team=cast.acme, name="script")
    client = client_for(cast.bob)
    page = client.get(reverse("team_leave", args=[cast.acme.pk])).content.decode()
    assert 'method="post"' in page and "Leave Acme" in page
    assert "onsubmit" not in page and "onclick" not in page

    response = client.post(reverse("team_leave", args=[cast.acme.pk]))
    assert response.status_code == 302 and response.url == reverse("gallery")
    assert not Membership.objects.filter(user=cast.bob, team=cast.acme).exists()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert Video.objects.filter(pk=video.pk).exists(), "the videos stay with the team"
    gallery = client.get(reverse("gallery"))
    assert gallery.status_code == 403 and b"You are not in a team yet" in gallery.content


def test_the_team_page_leads_to_leaving(cast):
    body = client_for(cast.bob).get(reverse("team")).content.decode()
    assert f'href="{reverse("team_leave", args=[cast.acme.pk])}"' in body


def test_leaving_the_current_team_moves_on_to_the_next(cast):
    add_member(cast.acme, cast.charlie)
    client = client_for(cast.charlie)
    client.post(reverse("team_switch"), {"team": cast.acme.pk})
    client.post(reverse("team_leave", args=[cast.acme.pk]))
    assert client.get(reverse("gallery")).context["membership"].team == cast.other


def test_the_last_admin_cannot_leave(cast):
    client = client_for(cast.alice)
    page = client.get(reverse("team_leave", args=[cast.acme.pk])).content.decode()
    assert "only admin of Acme. Make another member admin first" in page
    assert "<form" not in page.split("<main", 1)[1], "no leave button to press"
    response = client.post(reverse("team_leave", args=[cast.acme.pk]))
    assert response.status_code == 409 and b"only admin of Acme" in response.content
    assert Membership.objects.filter(user=cast.alice, team=cast.acme).exists()


def test_the_only_member_cannot_leave_either(cast):
    response = client_for(cast.charlie).post(reverse("team_leave", args=[cast.other.pk]))
    assert response.status_code == 409 and b"only member of Other" in response.content


def test_an_admin_leaves_once_another_admin_remains(cast):
    Membership.objects.filter(user=cast.bob).update(role=Membership.Role.ADMIN)
    response = client_for(cast.alice).post(reverse("team_leave", args=[cast.acme.pk]))
    assert response.status_code == 302
    assert list(cast.acme.memberships.values_list("user__username", flat=True)) == ["bob"]


def test_nobody_can_leave_a_team_they_are_not_in(cast):
    client = client_for(cast.charlie)
    assert client.get(reverse("team_leave", args=[cast.acme.pk])).status_code == 404
    assert client.post(reverse("team_leave", args=[cast.acme.pk])).status_code == 404
    assert Membership.objects.filter(team=cast.acme).count() == 2


def test_leaving_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bob)
    assert client.post(reverse("team_leave", args=[cast.acme.pk])).status_code == 403
    assert Membership.objects.filter(user=cast.bob, team=cast.acme).exists()


# The same over real HTTP


def test_a_member_looks_after_their_own_account_over_http(cast, live_server, throttle):
    bob = Visitor(live_server)
    assert _signed_in(bob.sign_in("bob"))
    bad = bob.post(reverse("profile"), {"email": "not an address"})
    assert bad.status_code == 400 and "Enter a valid email address." in bad.text
    assert bob.post(reverse("profile"), {"email": "bob@example.com"}).status_code == 302
    changed = bob.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.headers["Location"] == reverse("password_change_done")
    left = bob.post(reverse("team_leave", args=[cast.acme.pk]), {})
    assert left.headers["Location"] == reverse("gallery")
    assert bob.get(reverse("gallery")).status_code == 403
    cast.bob.refresh_from_db()
    assert cast.bob.email == "bob@example.com" and cast.bob.check_password(NEW_PASSWORD)

    charlie = Visitor(live_server)
    assert _signed_in(charlie.sign_in("charlie"))
    assert charlie.post(reverse("team_leave", args=[cast.acme.pk]), {}).status_code == 404
    assert Membership.objects.filter(user=cast.alice, team=cast.acme).exists()
