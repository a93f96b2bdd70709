import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import make_video
from videos import services
from videos.models import ProviderAccount, Video

KEY = "sk-live-5f0c9e1d7a2b4c6e8f"
# Nothing listens on the discard port, so a connection there is refused at once.
DEAD_HOST = "http://127.0.0.1:9"


def _minimax(team, name="Studio key", **fields) -> ProviderAccount:
    fields.setdefault("max_jobs", 3)
    return services.account_create(team=team, kind="minimax", secret=KEY, name=name, **fields)


def _form(**overrides) -> dict:
    data = {"kind": "minimax", "name": "Studio key", "secret": KEY, "max_jobs": "3", "rpm": "5"}
    data.update({"region": "global", "base_url": "", "default_model": ""})
    return {**data, **overrides}


def _raw_credentials(account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM videos_provideraccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def _field(body: str, name: str) -> str:
    """The HTML of the form field wrapper holding the input called `name`."""
    for block in body.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name} on the page")


def test_alice_adds_a_minimax_account_whose_key_is_stored_encrypted_and_never_shown(cast):
    client = client_for(cast.alice)
    response = client.post(reverse("account_new"), _form(), follow=True)
    account = ProviderAccount.objects.get(team=cast.acme, name="Studio key")
    assert response.redirect_chain[-1][0].endswith(f"#account-{account.pk}")
    assert account.kind == "minimax" and account.max_jobs == 3
    assert KEY in account.credentials, "the model decrypts it for the provider"
    assert KEY not in _raw_credentials(account), "the database holds only ciphertext"
    assert "Studio key was added" in response.content.decode()
    for page in (reverse("accounts"), reverse("account_edit", args=[account.pk])):
        assert KEY not in client.get(page).content.decode()


def test_alice_adds_a_useapi_account_for_one_hailuo_account(cast):
    data = _form(kind="useapi", name="Hailuo via useapi", upstream_account="123456")
    response = client_for(cast.alice).post(reverse("account_new"), data)
    assert response.status_code == 302
    account = ProviderAccount.objects.get(team=cast.acme, name="Hailuo via useapi")
    assert account.kind == "useapi" and account.upstream_account == "123456"
    assert KEY not in _raw_credentials(account)


def test_a_useapi_account_needs_its_hailuo_account_id(cast):
    data = _form(kind="useapi", name="Hailuo via useapi", upstream_account="")
    response = client_for(cast.alice).post(reverse("account_new"), data)
    assert response.status_code == 400
    assert "hailuoai.video account id" in _field(response.content.decode(), "upstream_account")
    assert not ProviderAccount.objects.filter(kind="useapi").exists()


def test_a_minimax_account_ignores_a_hailuo_account_id_sent_along(cast):
    data = _form(upstream_account="123456")
    assert client_for(cast.alice).post(reverse("account_new"), data).status_code == 302
    assert ProviderAccount.objects.get(name="Studio key").upstream_account == ""


def test_editing_with_a_blank_key_keeps_the_stored_one(cast):
    account = _minimax(cast.acme)
    data = _form(name="Renamed", secret="", max_jobs="5")
    response = client_for(cast.alice).post(reverse("account_edit", args=[account.pk]), data)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Renamed" and account.max_jobs == 5
    assert KEY in account.credentials


def test_editing_with_a_new_key_replaces_it(cast):
    account = _minimax(cast.acme)
    data = _form(secret="sk-new-key-0042")
    client_for(cast.alice).post(reverse("account_edit", args=[account.pk]), data)
    account.refresh_from_db()
    assert "sk-new-key-0042" in account.credentials and KEY not in account.credentials


def test_the_edit_form_says_the_key_is_kept_and_never_shows_it(cast):
    account = _minimax(cast.acme)
    body = client_for(cast.alice).get(reverse("account_edit", args=[account.pk])).content.decode()
    secret = _field(body, "secret")
    assert "API key" in secret and "Leave blank to keep the current one." in secret
    assert 'type="password"' in secret and "value=" not in secret.split("<input", 1)[1][:200]
    assert 'name="kind"' not in body, "the kind is chosen once, on create"


def test_a_useapi_account_asks_for_its_token(cast):
    account = services.account_create(
        team=cast.acme, kind="useapi", secret=KEY, name="U", upstream_account="42"
    )
    body = client_for(cast.alice).get(reverse("account_edit", args=[account.pk])).content.decode()
    assert "useapi.net token" in _field(body, "secret")


ACCOUNT_VIEWS = [
    ("get", "account_edit"),
    ("post", "account_edit"),
    ("post", "account_toggle"),
    ("post", "account_resume"),
    ("post", "account_delete"),
    ("post", "account_test"),
]


@pytest.mark.parametrize(
    ("method", "name"), [("get", "accounts"), ("get", "account_new"), ("post", "account_new")]
)
def test_a_member_cannot_open_the_account_pages(cast, method, name):
    response = getattr(client_for(cast.bob), method)(reverse(name), _form())
    assert response.status_code == 403
    assert not ProviderAccount.objects.filter(name="Studio key").exists()


@pytest.mark.parametrize(("method", "name"), ACCOUNT_VIEWS)
def test_a_member_cannot_touch_an_account(cast, method, name):
    account = _minimax(cast.acme)
    response = getattr(client_for(cast.bob), method)(reverse(name, args=[account.pk]), _form())
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.enabled and account.name == "Studio key"


@pytest.mark.parametrize(("method", "name"), ACCOUNT_VIEWS)
def test_an_outsider_cannot_see_that_an_account_exists(cast, method, name):
    account = _minimax(cast.acme)
    client = client_for(cast.charlie)  # admin of his own team, not of Acme
    response = getattr(client, method)(reverse(name, args=[account.pk]), _form())
    assert response.status_code == 404
    assert ProviderAccount.objects.filter(pk=account.pk, enabled=True).exists()


def test_the_accounts_page_shows_only_the_teams_own_accounts(cast):
    _minimax(cast.other, name="Charlie's key")
    body = client_for(cast.alice).get(reverse("accounts")).content.decode()
    assert "Local renderer — no AI" in body and "Charlie&#x27;s key" not in body


def test_the_nav_links_to_accounts_for_admins_only(cast):
    link = f'href="{reverse("accounts")}"'
    assert link in client_for(cast.alice).get(reverse("gallery")).content.decode()
    assert link not in client_for(cast.bob).get(reverse("gallery")).content.decode()


def test_a_missing_key_is_shown_next_to_the_key_field(cast):
    response = client_for(cast.alice).post(reverse("account_new"), _form(secret=""))
    assert response.status_code == 400
    assert "Paste the key" in _field(response.content.decode(), "secret")
    assert not ProviderAccount.objects.filter(name="Studio key").exists()


def test_more_than_ten_slots_is_shown_next_to_the_slots_field(cast):
    response = client_for(cast.alice).post(reverse("account_new"), _form(max_jobs="11"))
    assert response.status_code == 400
    assert "less than or equal to 10" in _field(response.content.decode(), "max_jobs")


def test_a_duplicate_name_is_shown_next_to_the_name_field(cast):
    _minimax(cast.acme)
    response = client_for(cast.alice).post(reverse("account_new"), _form())
    assert response.status_code == 400
    assert "already has an account with this name" in _field(response.content.decode(), "name")
    assert ProviderAccount.objects.filter(name="Studio key").count() == 1


def test_the_service_names_the_field_of_a_taken_name(cast):
    _minimax(cast.acme)
    with pytest.raises(services.ServiceError) as caught:
        _minimax(cast.acme)
    assert caught.value.field == "name"


def test_renaming_onto_another_accounts_name_is_refused(cast):
    _minimax(cast.acme)
    other = _minimax(cast.acme, name="Second key")
    response = client_for(cast.alice).post(
        reverse("account_edit", args=[other.pk]), _form(secret="")
    )
    assert response.status_code == 400
    assert "already has an account with this name" in _field(response.content.decode(), "name")
    other.refresh_from_db()
    assert other.name == "Second key"


def test_an_account_with_a_running_video_cannot_be_deleted(cast):
    account = _minimax(cast.acme)
    make_video(cast.acme, cast.bob, account=account, status=Video.Status.PROCESSING)
    response = client_for(cast.alice).post(
        reverse("account_delete", args=[account.pk]), follow=True
    )
    assert "has 1 video(s) running" in response.content.decode()
    assert ProviderAccount.objects.filter(pk=account.pk).exists()


def test_an_idle_account_is_deleted_and_its_videos_stay(cast):
    account = _minimax(cast.acme)
    video = make_video(cast.acme, cast.bob, account=account, status=Video.Status.COMPLETED)
    response = client_for(cast.alice).post(reverse("account_delete", args=[account.pk]))
    assert response.status_code == 302
    assert not ProviderAccount.objects.filter(pk=account.pk).exists()
    assert Video.objects.filter(pk=video.pk).exists()


def test_an_admin_disables_and_enables_an_account(cast):
    account = _minimax(cast.acme)
    client = client_for(cast.alice)
    response = client.post(reverse("account_toggle", args=[account.pk]), follow=True)
    account.refresh_from_db()
    assert not account.enabled
    assert "Studio key is disabled" in response.content.decode()
    assert "Disabled" in response.content.decode()
    client.post(reverse("account_toggle", args=[account.pk]))
    account.refresh_from_db()
    assert account.enabled


def test_an_admin_resumes_a_paused_account(cast):
    account = _minimax(cast.acme)
    ProviderAccount.objects.filter(pk=account.pk).update(
        paused_until=timezone.now() + timedelta(minutes=30), pause_reason="Out of balance"
    )
    client = client_for(cast.alice)
    body = client.get(reverse("accounts")).content.decode()
    assert "Paused" in body and "Out of balance" in body and "Resume now" in body
    client.post(reverse("account_resume", args=[account.pk]))
    account.refresh_from_db()
    assert not account.is_paused and account.pause_reason == ""


def test_the_slots_partial_lists_a_running_video(cast):
    account = _minimax(cast.acme)
    make_video(
        cast.acme,
        cast.bob,
        account=account,
        prompt="A paper boat drifts down a rainy street",
        status=Video.Status.PROCESSING,
        percent=40,
        submitted_at=timezone.now() - timedelta(minutes=2),
        upstream_id="task-77",
    )
    make_video(cast.acme, cast.bob)  # queued, waiting for a slot
    response = client_for(cast.alice).get(reverse("accounts"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body, "only the slots part"
    assert 'hx-trigger="every 3s' in body
    assert "A paper boat drifts down a rainy street" in body and "bob" in body
    assert "1 of 3" in body and "2\xa0minutes" in body and "task-77" in body
    assert re.search(r'stat-value">1</span>\s*<span class="stat-label">video waiting', body)


def test_polling_the_slots_changes_nothing(cast):
    account = _minimax(cast.acme)
    before = ProviderAccount.objects.filter(pk=account.pk).values().get()
    client_for(cast.alice).get(reverse("accounts"), HTTP_HX_REQUEST="true")
    assert ProviderAccount.objects.filter(pk=account.pk).values().get() == before
    assert not account.calls.exists()


def test_testing_a_dead_host_says_the_connection_failed(cast):
    account = _minimax(cast.acme, base_url=DEAD_HOST)
    client = client_for(cast.alice)
    response = client.post(reverse("account_test", args=[account.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Connection failed." in body and "could not be reached" in body
    account.refresh_from_db()
    assert "could not be reached" in account.last_error
    page = client.get(reverse("accounts")).content.decode()
    assert "Last error" in page and "could not be reached" in page


def test_without_javascript_a_connection_test_answers_with_a_message(cast):
    account = _minimax(cast.acme, base_url=DEAD_HOST)
    response = client_for(cast.alice).post(reverse("account_test", args=[account.pk]), follow=True)
    assert response.redirect_chain == [(reverse("accounts"), 302)]
    assert "Studio key: connection failed." in response.content.decode()


def test_an_htmx_connection_test_passes_the_csrf_check_with_the_pages_header(cast):
    account = _minimax(cast.acme, base_url=DEAD_HOST)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.alice)
    page = client.get(reverse("accounts")).content.decode()
    token = re.search(r'"x-csrftoken": "([^"]+)"', page).group(1)
    url = reverse("account_test", args=[account.pk])
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403
    response = client.post(url, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and b"Connection failed." in response.content


# Prices, for usage and cost quotas


def test_an_account_keeps_its_prices_and_blank_means_none(cast):
    client = client_for(cast.alice)
    form = _form(price_per_video="0.25", price_per_second="")
    assert client.post(reverse("account_new"), form).status_code == 302
    account = ProviderAccount.objects.get(name="Studio key")
    assert (str(account.price_per_video), str(account.price_per_second)) == ("0.2500", "0.0000")
    edit = reverse("account_edit", args=[account.pk])
    assert 'value="0.2500"' in client.get(edit).text
    response = client.post(edit, {**_form(price_per_second="-1"), "secret": ""})
    assert response.status_code == 400 and "greater than or equal to 0" in response.text


def test_the_local_renderer_has_no_prices_to_set(cast):
    local = ProviderAccount.objects.get(team=cast.acme, kind="local")
    page = client_for(cast.alice).get(reverse("account_edit", args=[local.pk])).text
    assert "price_per_video" not in page
