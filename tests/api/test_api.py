"""The REST API's contract (seeds/000, reference/useapi-minimax.md), through Django's test client.

Every status the seed lists comes from a test here or in test_api_strict.py, with the body shape
it documents; bad input of every kind is a 400 whose message names the field.
"""

import json

import pytest
from django.core.management import call_command
from django.test import Client

from studio.api import links as records
from studio.api import services as api_services
from studio.api.models import ApiToken
from studio.teams.models import Membership
from tests.factories import image_bytes, make_video
from videos import scheduler
from videos.models import PromptImage, ProviderAccount, Video

S = Video.Status


class Api:
    """A script's view of the API: a token, JSON in, JSON out."""

    def __init__(self, raw: str):
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def post(self, path: str, body=None, **kwargs):
        if "content_type" not in kwargs and not isinstance(body, str | bytes):
            body, kwargs["content_type"] = json.dumps(body or {}), "application/json"
        return self.client.post(f"/v1/minimax/{path}", body, **kwargs)

    def get(self, path: str, **params):
        return self.client.get(f"/v1/minimax/{path}", params)

    def delete(self, path: str):
        return self.client.delete(f"/v1/minimax/{path}")

    def create(self, **body):
        return self.post("videos/create", body)


def api_for(user, team) -> Api:
    _, raw = api_services.api_token_create(user=user, team=team, name="test")
    return Api(raw)


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "code"} and body["code"] == status, body
    return body["error"]


# Tokens


def test_it_refuses_a_request_without_a_token(cast):
    response = Client().post("/v1/minimax/videos/create", {"prompt": "x"})
    assert error_of(response, 401) == "Unauthorized"


def test_it_refuses_an_unknown_token(cast):
    assert error_of(Api("st_not-a-real-token").get("videos/"), 401) == "Unauthorized"


def test_it_refuses_a_revoked_token(cast, bob):
    api_services.api_token_revoke(token=ApiToken.objects.get(user=cast.bob))
    error_of(bob.get("videos/"), 401)


def test_a_token_stops_working_when_its_user_leaves_the_team(cast, bob):
    Membership.objects.filter(user=cast.bob, team=cast.acme).delete()
    error_of(bob.get("videos/"), 401)


def test_a_token_stops_working_when_its_user_is_deactivated(cast, bob):
    type(cast.bob).objects.filter(pk=cast.bob.pk).update(is_active=False)
    error_of(bob.get("videos/"), 401)


def test_a_token_acts_in_its_own_team_even_when_its_user_is_in_two(cast):
    Membership.objects.create(user=cast.bob, team=cast.other, role=Membership.Role.ADMIN)
    bob_in_acme = api_for(cast.bob, cast.acme)
    assert bob_in_acme.create(prompt="For Acme").status_code == 200
    assert Video.objects.get(prompt="For Acme").team == cast.acme
    # bob is a member in Acme (an admin only in Other): Acme's accounts are not his to manage.
    assert "team admins" in error_of(bob_in_acme.post("accounts/", {"name": "x"}), 403)


def test_a_token_is_stored_only_as_its_hash_and_records_its_last_use(cast):
    token, raw = api_services.api_token_create(user=cast.bob, team=cast.acme, name="script")
    assert raw not in {token.token_hash, token.prefix} and raw.startswith(token.prefix)
    assert token.last_used_at is None
    Api(raw).get("videos/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_management_command_prints_a_working_token(cast, capsys):
    call_command("create_api_token", "bob", "--team", "Acme")
    raw = capsys.readouterr().out.strip()
    assert Api(raw).get("videos/").status_code == 200


def test_the_management_command_asks_which_team_when_there_are_several(cast):
    Membership.objects.create(user=cast.bob, team=cast.other)
    with pytest.raises(Exception, match="several teams"):
        call_command("create_api_token", "bob")


def test_it_limits_requests_per_token_with_a_clear_429(cast, bob, conf):
    conf.API_READ_RATE_LIMIT = 3
    for _ in range(3):
        assert bob.get("videos/").status_code == 200
    response = bob.get("videos/")
    assert "3 reads every 60 s" in error_of(response, 429)
    assert 1 <= int(response["Retry-After"]) <= 61
    assert api_for(cast.alice, cast.acme).get("videos/").status_code == 200, "per token"


# POST videos/create


def test_the_seeds_body_creates_a_queued_video_in_the_shared_gallery(cast, bob):
    response = bob.create(prompt="A red robot zooms in", replyRef="job-7")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 200 and body["replyRef"] == "job-7" and body["replyUrl"] == ""
    video = Video.objects.get()
    assert body["videoId"] == f"user:{cast.bob.pk}-minimax:auto-video:{video.pk}"
    assert set(body["statusInfo"]) >= {"code", "httpCode", "message", "serviceTime"}
    assert (video.team, video.author, video.status) == (cast.acme, cast.bob, S.QUEUED)
    assert video.prompt_optimization is True and video.tracked
    assert Client().get("/") and video in Video.objects.filter(team=cast.acme)


def test_a_multipart_create_reads_its_fields_as_text(cast, bob):
    fields = {"prompt": "Over the hills", "promptOptimization": "false", "maxJobs": "2"}
    assert bob.post("videos/create", fields).status_code == 200
    video = Video.objects.get()
    assert (video.prompt_optimization, video.max_jobs) == (False, 2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prompt": 42}, "prompt must be a string"),
        ({"prompt": "x" * 2001}, "prompt is 2,001 characters; the limit is 2,000"),
        ({"prompt": "   "}, "prompt is required"),
        ({}, "prompt is required"),
        ({"prompt": "x", "promptOptimization": "yes"}, "promptOptimization must be true or false"),
        ({"prompt": "x", "promptOptimization": 1}, "promptOptimization must be true or false"),
        ({"prompt": "x", "maxJobs": 0}, "maxJobs must be from 1 to 10"),
        ({"prompt": "x", "maxJobs": 11}, "maxJobs must be from 1 to 10"),
        ({"prompt": "x", "maxJobs": "three"}, "maxJobs must be a whole number"),
        ({"prompt": "x", "maxJobs": True}, "maxJobs must be a whole number"),
        ({"prompt": "x", "maxJobs": 2.5}, "maxJobs must be a whole number"),
        (
            {"prompt": "x", "replyUrl": "https://example.com/" + "a" * 1010},
            "replyUrl must be at most",
        ),
        ({"prompt": "x", "replyRef": "r" * 1025}, "replyRef must be at most 1,024"),
        ({"prompt": "x", "replyUrl": 7}, "replyUrl must be a string"),
        ({"prompt": "x", "replyUrl": "ftp://example.com/x"}, "replyUrl"),
        (
            {"prompt": "x", "replyUrl": "http://10.0.0.5/hook"},
            "replyUrl points at an address the studio does not connect to",
        ),
        (
            {"prompt": "x", "replyUrl": "http://169.254.169.254/"},
            "replyUrl points at an address the studio does not connect to",
        ),
        ({"prompt": "x", "replyUrl": "http://93.184.215.14:0/"}, "replyUrl has an invalid port"),
        ({"prompt": "x", "fileID": "file-1"}, "fileID 'file-1' is not a file id"),
        ({"prompt": "x", "fileID": "user:1-minimax:auto-file:999"}, "fileID: no such file"),
        ({"prompt": "x", "account": ["1"]}, "account must be an account id"),
        ({"prompt": "x", "mode": "fast"}, "Unknown field(s): mode"),
        ({"prompt": "x", "model": "Sora-3"}, "model 'Sora-3' is not one the studio or useapi"),
        ({"prompt": "x", "options": "huge"}, "options 'huge' is not of the form \"768p-6sec\""),
        ({"prompt": "x", "model": "02", "options": "1080p-10sec"}, "not one 02 takes: 512p-6sec"),
        ({"prompt": "x", "model": "I2V-01"}, "fileID is required with I2V-01"),
        ({"prompt": "x", "end_frame_fileID": "user:1-minimax:auto-file:1"}, "needs a first"),
    ],
)
def test_it_refuses_a_bad_field_naming_it(cast, bob, body, message):
    assert message in error_of(bob.create(**body), 400)
    assert not Video.objects.exists(), "a refused request leaves nothing behind"


def test_it_names_every_bad_field_at_once(cast, bob):
    message = error_of(bob.create(prompt=1, maxJobs=99), 400)
    assert "prompt must be a string" in message and "maxJobs must be from 1 to 10" in message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"prompt"', "must be a JSON object"),
    ],
)
def test_it_refuses_a_body_that_is_not_a_json_object(cast, bob, raw, message):
    response = bob.post("videos/create", raw, content_type="application/json")
    assert message in error_of(response, 400)


def test_it_refuses_json_nested_too_deeply_to_read(cast, bob):
    response = bob.post("videos/create", "[" * 60000, content_type="application/json")
    assert "nests too deeply" in error_of(response, 400)


def test_it_refuses_an_oversized_body(cast, bob, conf):
    conf.API_MAX_BODY_BYTES = 1000
    response = bob.create(prompt="x", replyRef="r" * 1000)
    assert "the limit is 1,000" in error_of(response, 400)


def test_it_refuses_a_body_of_another_type(cast, bob):
    response = bob.post("videos/create", "prompt=x", content_type="application/xml")
    assert "application/json or multipart/form-data" in error_of(response, 400)


def test_an_image_alone_is_enough_and_becomes_the_first_frame(cast, bob):
    upload = bob.post("files/", image_bytes(800, 600), content_type="image/png").json()
    response = bob.create(fileID=upload["fileID"])
    assert response.status_code == 200
    video = Video.objects.get()
    assert video.image.pk == records.parse_id(upload["fileID"], "file") and video.prompt == ""


def test_useapis_model_and_options_choose_minimaxs_model_resolution_and_length(cast, bob):
    first = bob.post("files/", image_bytes(800, 600), content_type="image/png").json()["fileID"]
    last = bob.post("files/", image_bytes(800, 600), content_type="image/png").json()["fileID"]
    body = {"prompt": "Dolly in", "fileID": first, "end_frame_fileID": last}
    assert bob.create(model="02", options="768p-10sec", **body).status_code == 200
    video = Video.objects.get()
    assert (video.model, video.resolution, video.requested_duration) == (
        "MiniMax-Hailuo-02",
        "768P",
        10,
    )
    assert video.last_image.pk == records.parse_id(last, "file")
    same = bob.create(model="02", prompt="x", fileID=first, end_frame_fileID=first)
    assert "end_frame_fileID must differ from fileID" in error_of(same, 400)


def test_another_teams_file_is_not_found(cast, bob):
    theirs = api_for(cast.charlie, cast.other)
    upload = theirs.post("files/", image_bytes(), content_type="image/png").json()
    assert "no such file" in error_of(bob.create(prompt="x", fileID=upload["fileID"]), 400)


def test_it_pins_a_video_to_the_account_it_names(cast, bob):
    local = ProviderAccount.objects.get(team=cast.acme)
    second = ProviderAccount.objects.create(team=cast.acme, name="Second", kind="local", max_jobs=2)
    body = bob.create(prompt="Only on the second", account=str(second.pk)).json()
    assert body["videoId"].startswith(f"user:{cast.bob.pk}-minimax:{second.pk}-video:")
    bob.create(prompt="Anywhere", account="Local renderer")  # by name too
    ProviderAccount.objects.filter(pk=second.pk).update(enabled=False)
    scheduler.videos_dispatch()
    pinned, anywhere = Video.objects.order_by("id")
    assert pinned.status == S.QUEUED, "it waits for its own account"
    assert anywhere.account == local
    ProviderAccount.objects.filter(pk=second.pk).update(enabled=True)
    scheduler.videos_dispatch()
    pinned.refresh_from_db()
    assert pinned.account == second


def test_naming_a_disabled_account_is_refused_rather_than_queued_for_ever(cast, bob):
    account = ProviderAccount.objects.get(team=cast.acme)
    ProviderAccount.objects.filter(pk=account.pk).update(enabled=False)
    message = error_of(bob.create(prompt="x", account=str(account.pk)), 400)
    assert f"account {account.pk} (Local renderer) is disabled" in message
    assert not Video.objects.exists()


def test_max_jobs_lowers_the_accounts_limit_for_that_video(cast, bob):
    ProviderAccount.objects.filter(team=cast.acme).update(max_jobs=3)
    bob.create(prompt="First")
    bob.create(prompt="Only while fewer than two run", maxJobs=2)
    bob.create(prompt="Only while none runs", maxJobs=1)
    scheduler.videos_dispatch()
    first, second, third = Video.objects.order_by("id")
    assert first.status == second.status == S.SUBMITTING
    assert third.status == S.QUEUED, "two run, and this one allows only one"


def test_max_jobs_never_raises_the_accounts_limit(cast, bob):
    ProviderAccount.objects.filter(team=cast.acme).update(max_jobs=1)
    bob.create(prompt="One", maxJobs=10)
    bob.create(prompt="Two", maxJobs=10)
    scheduler.videos_dispatch()
    assert Video.objects.filter(status=S.SUBMITTING).count() == 1


def test_past_the_authors_queue_limit_it_answers_429_with_the_running_videos(cast, bob, conf):
    conf.API_USER_QUEUE_LIMIT = 2
    first = bob.create(prompt="One", replyRef="a").json()
    bob.create(prompt="Two")
    scheduler.videos_dispatch()  # both start on the local renderer
    response = bob.create(prompt="Three")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == 429 and "your limit" in body["error"]
    account = str(ProviderAccount.objects.get(team=cast.acme).pk)
    running = body["runningVideos"][account]
    assert {r["videoId"] for r in running} >= {first["videoId"]}
    assert set(running[0]) >= {"account", "id", "scheduledVideo", "videoId", "started", "replyRef"}
    assert Video.objects.count() == 2
    # A teammate is not held back by bob's queue.
    assert api_for(cast.alice, cast.acme).create(prompt="Alice's").status_code == 200


def test_past_the_teams_queue_limit_it_answers_429(cast, bob, settings):
    cast.acme.team_queue_limit = 1
    cast.acme.save()
    bob.create(prompt="One")
    response = api_for(cast.alice, cast.acme).create(prompt="Two")
    assert response.status_code == 429 and "the team's limit" in response.json()["error"]


# GET / DELETE videos, cancel


def test_get_video_reports_the_documented_fields(cast, bob):
    video_id = bob.create(prompt="Fields", replyRef="ref-1").json()["videoId"]
    body = bob.get(f"videos/{video_id}").json()
    for field in (
        "status",
        "statusLabel",
        "statusFinal",
        "percent",
        "message",
        "width",
        "height",
        "originFiles",
        "canRetry",
        "replyRef",
        "videoId",
    ):
        assert field in body, field
    assert (body["status"], body["statusLabel"], body["statusFinal"]) == (11, "queued", False)
    assert body["replyRef"] == "ref-1" and body["videoId"] == video_id


def test_a_completed_video_has_links_that_work_without_the_token(cast, bob, media_root):
    video = make_video(cast.acme, cast.bob, status=S.COMPLETED, width=64, height=36)
    video.file.save("v.mp4", __import__("io").BytesIO(b"\x00\x00\x00\x18ftypmp42"), save=False)
    video.poster.save("p.jpg", __import__("io").BytesIO(b"jpeg"), save=True)
    body = bob.get(f"videos/{records.video_id(video)}").json()
    assert body["status"] == 2 and body["statusFinal"] is True
    anonymous = Client()
    for key in ("videoURL", "downloadURL", "coverURL"):
        response = anonymous.get(body[key].removeprefix("http://testserver"))
        assert response.status_code == 200, key
    download = anonymous.get(body["downloadURL"].removeprefix("http://testserver"))
    assert "attachment" in download["Content-Disposition"]
    assert b"ftypmp42" in b"".join(anonymous.get(body["videoURL"]).streaming_content)


def test_an_expired_or_forged_link_needs_the_token(cast, bob, conf):
    video = make_video(cast.acme, cast.bob, status=S.COMPLETED)
    video.poster.save("p.jpg", __import__("io").BytesIO(b"jpeg"), save=True)
    link = records.signed_link("", kind="cover", pk=video.pk)
    conf.API_LINK_SECONDS = -1  # every link has expired
    assert "expired" in error_of(Client().get(link), 401)
    assert bob.client.get(link).status_code == 200, "the same token still reaches it"
    outsider = api_for(cast.charlie, cast.other)
    assert outsider.client.get(link).status_code == 404
    assert Client().get(link[:-3] + "abc").status_code == 401


def test_another_teams_video_is_not_found(cast, bob):
    theirs = make_video(cast.other, cast.charlie)
    error_of(bob.get(f"videos/{records.video_id(theirs)}"), 404)
    error_of(bob.delete(f"videos/{records.video_id(theirs)}"), 404)
    assert Video.objects.filter(pk=theirs.pk).exists()


def test_a_malformed_video_id_is_a_400(cast, bob):
    assert "not a video id" in error_of(bob.get("videos/12345"), 400)


def test_the_list_pages_with_last_video_id(cast, bob):
    ids = [bob.create(prompt=f"Shot {i}").json()["videoId"] for i in range(5)]
    first = bob.get("videos/", limit=2).json()
    assert [v["videoId"] for v in first["videos"]] == ids[:2:-1][:2]
    assert first["lastVideoId"] == ids[3]
    second = bob.get("videos/", limit=2, lastVideoId=first["lastVideoId"]).json()
    assert [v["videoId"] for v in second["videos"]] == [ids[2], ids[1]]
    last = bob.get("videos/", limit=2, lastVideoId=second["lastVideoId"]).json()
    assert [v["videoId"] for v in last["videos"]] == [ids[0]] and last["lastVideoId"] is None
    assert "limit" in error_of(bob.get("videos/", limit=0), 400)


def test_a_running_video_must_be_cancelled_before_it_is_deleted(cast, bob):
    video_id = bob.create(prompt="Running").json()["videoId"]
    assert "Cancel the video" in error_of(bob.delete(f"videos/{video_id}"), 400)
    cancelled = bob.post("videos/cancel", {"videoId": video_id}).json()
    assert (cancelled["statusLabel"], cancelled["statusFinal"]) == ("cancelled", True)
    assert bob.post("videos/cancel", {"videoId": video_id}).status_code == 200, "idempotent"
    assert bob.delete(f"videos/{video_id}").json()["deleted"] is True
    assert Video.objects.get().deleted_at is not None, "in the Trash, restorable for TRASH_DAYS"
    assert "deleted" in error_of(bob.get(f"videos/{video_id}"), 404), "gone, as at useapi.net"
    assert bob.delete(f"videos/{video_id}").json()["deleted"] is True, "DELETE is idempotent"


def test_cancelling_a_finished_video_says_so(cast, bob):
    video = make_video(cast.acme, cast.bob, status=S.COMPLETED)
    message = error_of(bob.post("videos/cancel", {"videoId": records.video_id(video)}), 400)
    assert "already ended" in message
    assert "videoId" in error_of(bob.post("videos/cancel", {}), 400)


# Files


def test_a_raw_image_body_uploads_and_lists(cast, bob):
    response = bob.post("files/", image_bytes(800, 600, "JPEG"), content_type="image/jpeg")
    assert response.status_code == 200
    body = response.json()
    assert body["fileID"].startswith(f"user:{cast.bob.pk}-minimax:") and body["ossPath"]
    listed = bob.get("files/").json()["files"]
    assert [f["fileID"] for f in listed] == [body["fileID"]]
    assert PromptImage.objects.get().team == cast.acme


def test_a_bad_last_file_id_is_a_400_not_the_first_page_again(cast, bob):
    assert "lastFileID" in error_of(bob.get("files/", lastFileID="nope"), 400)


def test_a_multipart_image_uploads(cast, bob):
    from tests.factories import upload

    response = bob.client.post("/v1/minimax/files/", {"file": upload("shot.png")})
    assert response.status_code == 200 and response.json()["file_name"] == "shot.png"


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"not an image at all", "image/png", "the body is not a png, jpeg or webp image"),
        (image_bytes()[:60], "image/png", "damaged or cut short"),
        (b"{}", "application/json", "it starts with the bytes 7b 7d"),
    ],
)
def test_it_refuses_an_upload_that_is_not_a_usable_image(cast, bob, content, content_type, message):
    assert message in error_of(bob.post("files/", content, content_type=content_type), 400).lower()


def test_a_file_in_use_by_a_waiting_video_is_not_deleted(cast, bob):
    file_id = bob.post("files/", image_bytes(), content_type="image/png").json()["fileID"]
    video_id = bob.create(fileID=file_id).json()["videoId"]
    assert "uses this image" in error_of(bob.delete(f"files/{file_id}"), 400)
    bob.post("videos/cancel", {"videoId": video_id})
    assert bob.delete(f"files/{file_id}").status_code == 200
    assert bob.delete(f"files/{file_id}").status_code == 200, "gone already is fine"
    assert not PromptImage.objects.exists()


def test_deleting_another_teams_file_does_nothing(cast, bob):
    theirs = api_for(cast.charlie, cast.other)
    file_id = theirs.post("files/", image_bytes(), content_type="image/png").json()["fileID"]
    assert bob.delete(f"files/{file_id}").status_code == 200
    assert PromptImage.objects.filter(team=cast.other).exists()


# Accounts


def test_members_read_accounts_but_only_team_admins_change_them(cast, bob):
    local = ProviderAccount.objects.get(team=cast.acme)
    assert list(bob.get("accounts/").json()) == [str(local.pk)]
    assert bob.get(f"accounts/{local.pk}").json()["name"] == local.name
    body = {"name": "x", "apiKey": "k", "maxJobs": 1}
    assert "team admins" in error_of(bob.post("accounts/", body), 403)
    assert "team admins" in error_of(bob.delete(f"accounts/{local.pk}"), 403)


def test_an_admin_adds_lists_reads_and_deletes_an_account_and_never_sees_its_key(cast, alice):
    body = {"name": "MiniMax 1", "apiKey": "sk-secret-123", "maxJobs": 3, "rpm": 10}
    response = alice.post("accounts/", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["maxJobs"] == 3 and created["kind"] == "minimax"
    listing = alice.get("accounts/")
    assert "sk-secret-123" not in listing.content.decode()
    assert created["account"] in listing.json()
    assert alice.get(f"accounts/{created['account']}").json()["name"] == "MiniMax 1"
    assert alice.delete(f"accounts/{created['account']}").status_code == 200
    assert error_of(alice.get(f"accounts/{created['account']}"), 404) == "Configuration not found"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "maxJobs": 1}, "apiKey is required"),
        ({"name": "x", "apiKey": "k", "maxJobs": 11}, "maxJobs"),
        ({"name": "x", "kind": "useapi", "token": "t", "maxJobs": 1}, "hailuoai.video account"),
        ({"name": "Local renderer", "apiKey": "k", "maxJobs": 1}, "already has an account"),
        ({"name": "x", "apiKey": "k", "maxJobs": 1, "password": "p"}, "Unknown field(s)"),
    ],
)
def test_adding_an_account_explains_what_is_wrong(cast, alice, body, message):
    assert message in error_of(alice.post("accounts/", body), 400)


def test_an_account_with_running_videos_is_not_deleted(cast, alice):
    account = ProviderAccount.objects.get(team=cast.acme)
    make_video(cast.acme, cast.bob, status=S.PROCESSING, account=account)
    assert "running" in error_of(alice.delete(f"accounts/{account.pk}"), 400)


# Scheduler


def test_the_scheduler_lists_tracked_videos_and_capacity(cast, bob):
    tracked = bob.create(prompt="Tracked", replyRef="r1").json()["videoId"]
    make_video(cast.acme, cast.bob, prompt="From the web UI")
    jobs = bob.get("scheduler/").json()
    assert [j["videoId"] for j in jobs] == [tracked] and jobs[0]["replyRef"] == "r1"
    available = bob.get("scheduler/available").json()
    (slot,) = available["available"]
    assert (slot["maxJobs"], slot["executing"], slot["available"]) == (2, 0, 2)
    assert available["queued"] == 2


def test_untracking_a_video_stops_its_callback_but_not_the_video(cast, bob, conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    video_id = bob.create(prompt="x", replyUrl="http://127.0.0.1:9/hook").json()["videoId"]
    assert bob.delete(f"scheduler/{video_id}").json()["tracked"] is False
    video = Video.objects.get()
    assert (video.status, video.reply_state, video.tracked) == (S.QUEUED, "", False)
    assert bob.get("scheduler/").json() == []
    assert "Unable to locate running" in error_of(bob.delete(f"scheduler/{video_id}"), 404)


# Shape of the API itself


def test_an_unknown_path_or_method_answers_json(cast, bob):
    assert "No such endpoint" in error_of(bob.get("nothing/here"), 404)
    response = bob.client.put("/v1/minimax/videos/create")
    assert "Use POST" in error_of(response, 405) and response["Allow"] == "POST"


def test_paths_work_with_and_without_the_trailing_slash(cast, bob):
    assert bob.get("videos").status_code == bob.get("videos/").status_code == 200
    assert bob.get("scheduler").status_code == 200
