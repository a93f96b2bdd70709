"""Ownership and the Trash: who may cancel, delete and restore; the toast's Undo; the Trash page;
the purge and its schedule; the API's DELETE and its 403."""

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_q.models import Schedule

from studio.api import links as records
from studio.lib.errors import ServiceError
from studio.teams.models import Membership
from tests.api.test_api import api_for, error_of
from tests.conftest import client_for
from tests.factories import make_video
from videos import services, tasks
from videos.access import MANAGE_RULE
from videos.models import Video
from videos.services.dispatch import TRASH_SCHEDULE

HTMX = {"HTTP_HX_REQUEST": "true"}
TRASH_MIGRATION = import_module("videos.migrations.0013_trash_schedule")
S = Video.Status


def _finished(cast, author, prompt="A lighthouse at dusk", **fields) -> Video:
    """A completed video with its MP4 and poster in storage."""
    video = make_video(cast.acme, author, prompt=prompt, status=S.COMPLETED, **fields)
    video.file.save(f"v{video.pk}.mp4", ContentFile(b"\0\0\0\x18ftypmp42"), save=False)
    video.poster.save(f"v{video.pk}.jpg", ContentFile(b"\xff\xd8\xff"), save=False)
    video.save(update_fields=["file", "poster"])
    return video


def _member(cast, user) -> Membership:
    return Membership.objects.get(team=cast.acme, user=user)


def _trash(cast, video: Video, *, by=None, days_ago: float = 0) -> Video:
    services.video_trash(video=video, by=_member(cast, by or video.author))
    if days_ago:
        deleted_at = timezone.now() - timedelta(days=days_ago)
        Video.objects.filter(pk=video.pk).update(deleted_at=deleted_at)
    video.refresh_from_db()
    return video


def _post(user, name: str, video: Video, data=None, **headers):
    return client_for(user).post(reverse(name, args=[video.pk]), data or {}, **headers)


# Who may


def test_a_member_cannot_cancel_or_delete_a_teammates_video(cast):
    queued = make_video(cast.acme, cast.alice)
    finished = _finished(cast, cast.alice)
    for headers in ({}, HTMX):
        response = _post(cast.bob, "video_cancel", queued, **headers)
        assert response.status_code == 403 and escape(MANAGE_RULE) in response.text
        response = _post(cast.bob, "video_delete", finished, **headers)
        assert response.status_code == 403 and escape(MANAGE_RULE) in response.text
    assert Video.objects.get(pk=queued.pk).status == S.QUEUED
    assert Video.objects.get(pk=finished.pk).deleted_at is None


def test_the_service_refuses_a_members_delete_of_a_teammates_video_too(cast):
    video = _finished(cast, cast.alice)
    with pytest.raises(ServiceError, match="author or a team admin"):
        services.video_trash(video=video, by=_member(cast, cast.bob))
    assert Video.objects.get().deleted_at is None


def test_an_admin_can_cancel_and_delete_a_members_video(cast):
    queued = make_video(cast.acme, cast.bob)
    finished = _finished(cast, cast.bob)
    assert _post(cast.alice, "video_cancel", queued, **HTMX).status_code == 200
    assert _post(cast.alice, "video_delete", finished, **HTMX).status_code == 200
    assert Video.objects.get(pk=queued.pk).status == S.CANCELLED
    trashed = Video.objects.get(pk=finished.pk)
    assert trashed.deleted_at is not None and trashed.deleted_by == cast.alice


def test_the_card_offers_cancel_and_delete_only_to_whoever_may(cast):
    _finished(cast, cast.alice, prompt="alice finished")
    make_video(cast.acme, cast.alice, prompt="alice queued")
    _finished(cast, cast.bob, prompt="bob finished")

    def actions(user) -> set[int]:
        html = client_for(user).get(reverse("gallery")).text
        return {
            video.pk
            for video in Video.objects.all()
            for name in ("video_cancel", "video_delete")
            if reverse(name, args=[video.pk]) in html
        }

    mine = Video.objects.get(prompt="bob finished").pk
    assert actions(cast.bob) == {mine}
    assert actions(cast.alice) == set(Video.objects.values_list("pk", flat=True))


def test_an_outsider_gets_404_not_403_for_a_video_of_another_team(cast):
    video = _trash(cast, _finished(cast, cast.alice))
    for name in ("video_restore", "trash_delete"):
        assert _post(cast.charlie, name, video).status_code == 404, name


# Delete, Undo, restore


def test_delete_with_htmx_leaves_a_placeholder_and_a_toast_with_undo(cast):
    video = _finished(cast, cast.bob, prompt="A paper boat in the rain")
    response = _post(cast.bob, "video_delete", video, **HTMX)
    html = response.text
    assert response.status_code == 200
    assert f'<div id="video-{video.pk}" class="card-trashed" hidden></div>' in html
    assert 'id="trash-toast" hx-swap-oob="innerHTML"' in html and "Moved to trash" in html
    assert f'hx-post="{reverse("video_restore", args=[video.pk])}"' in html
    assert f'hx-target="#video-{video.pk}"' in html
    assert Video.objects.get().deleted_by == cast.bob


def test_undo_puts_the_card_back_with_a_note(cast):
    video = _trash(cast, _finished(cast, cast.bob, prompt="A paper boat in the rain"))
    response = _post(cast.bob, "video_restore", video, {"back": "gallery"}, **HTMX)
    html = response.text
    assert response.status_code == 200
    assert f'<article class="card status-completed" id="video-{video.pk}"' in html
    assert "Restored to the gallery." in html
    restored = Video.objects.get()
    assert restored.deleted_at is None and restored.deleted_by is None


def test_delete_without_javascript_shows_the_undo_once_on_the_gallery(cast):
    video = _finished(cast, cast.bob, prompt="A paper boat in the rain")
    client = client_for(cast.bob)
    response = client.post(reverse("video_delete", args=[video.pk]), follow=True)
    restore = reverse("video_restore", args=[video.pk])
    assert response.redirect_chain == [(reverse("gallery"), 302)]
    assert "Moved to trash" in response.text and f'action="{restore}"' in response.text
    assert "A paper boat in the rain" in response.text, "the toast names the video"
    assert 'id="video-' not in response.text, "its card is gone"
    assert "Moved to trash" not in client.get(reverse("gallery")).text, "only once"

    response = client.post(restore, {"back": "gallery"}, follow=True)
    assert response.redirect_chain == [(reverse("gallery"), 302)]
    assert "Restored to the gallery." in response.text
    assert f'id="video-{video.pk}"' in response.text


def test_a_running_video_is_not_deleted_and_keeps_its_card(cast):
    video = make_video(cast.acme, cast.bob, status=S.PROCESSING)
    response = _post(cast.bob, "video_delete", video, **HTMX)
    assert f'id="video-{video.pk}"' in response.text and "Cancel the video" in response.text
    assert Video.objects.get().deleted_at is None


def test_trashed_videos_leave_the_gallery_but_their_files_still_serve(cast):
    video = _trash(cast, _finished(cast, cast.bob, prompt="In the bin"))
    client = client_for(cast.alice)
    assert "In the bin" not in client.get(reverse("gallery")).text
    for name in ("video_mp4", "video_poster"):
        response = client.get(reverse(name, args=[video.pk]))
        assert response.status_code == 200, name
        b"".join(response.streaming_content)


def test_a_member_cannot_restore_a_teammates_video(cast):
    video = _trash(cast, _finished(cast, cast.alice))
    response = _post(cast.bob, "video_restore", video, **HTMX)
    assert response.status_code == 403 and escape(MANAGE_RULE) in response.text
    assert Video.objects.get().deleted_at is not None


def test_restoring_twice_says_it_was_not_in_the_trash(cast):
    video = _trash(cast, _finished(cast, cast.bob))
    client = client_for(cast.bob)
    client.post(reverse("video_restore", args=[video.pk]), {"back": "trash"})
    response = client.post(
        reverse("video_restore", args=[video.pk]), {"back": "trash"}, follow=True
    )
    assert response.redirect_chain == [(reverse("trash"), 302)]
    assert "That video was not in the Trash." in response.text


# The Trash page


def test_the_trash_lists_the_teams_deleted_videos_newest_deleted_first(cast):
    older = _trash(cast, _finished(cast, cast.alice, prompt="deleted long ago"), days_ago=20)
    newer = _trash(cast, _finished(cast, cast.bob, prompt="deleted just now"), by=cast.alice)
    _finished(cast, cast.bob, prompt="still in the gallery")
    make_video(cast.other, cast.charlie, prompt="another team's", deleted_at=timezone.now())
    html = client_for(cast.bob).get(reverse("trash")).text
    assert html.index("deleted just now") < html.index("deleted long ago")
    assert "still in the gallery" not in html and "another team's" not in html
    assert "by bob" in html and "deleted by alice" in html
    assert "purged in 30 days" in html and "purged in 10 days" in html
    assert reverse("video_poster", args=[newer.pk]) in html
    # bob restores his own only; only admins delete forever or empty the Trash.
    assert reverse("video_restore", args=[newer.pk]) in html
    assert reverse("video_restore", args=[older.pk]) not in html
    assert "Delete forever" not in html and reverse("trash_empty") not in html
    admin = client_for(cast.alice).get(reverse("trash")).text
    assert reverse("video_restore", args=[older.pk]) in admin
    assert admin.count("Delete forever") == 2 and reverse("trash_empty") in admin


def test_the_gallery_links_to_the_trash(cast):
    assert f'href="{reverse("trash")}"' in client_for(cast.bob).get(reverse("gallery")).text


def test_the_trash_pages_with_a_keyset_cursor(cast, conf):
    conf.GALLERY_PAGE_SIZE = 2
    videos = [_finished(cast, cast.bob, prompt=f"shot {i}") for i in range(5)]
    # Three deleted in the same instant (a bulk delete): the cursor still neither skips nor repeats.
    same = timezone.now() - timedelta(hours=1)
    for i, video in enumerate(videos):
        _trash(cast, video)
        at = same if i < 3 else timezone.now() - timedelta(minutes=10 - i)
        Video.objects.filter(pk=video.pk).update(deleted_at=at)
    client = client_for(cast.bob)
    seen, url = [], reverse("trash")
    while url:
        html = client.get(url, **(HTMX if seen else {})).text
        seen += re.findall(r'class="trash-prompt" title="(shot \d)"', html)
        more = re.search(r'href="(/trash/\?before=[\d.]+)"', html)
        url = more and more[1]
    assert seen == ["shot 4", "shot 3", "shot 2", "shot 1", "shot 0"]


def test_a_hand_edited_trash_link_gets_the_first_page_and_a_note(cast):
    response = client_for(cast.bob).get(reverse("trash"), {"before": "yesterday"}, follow=True)
    assert response.redirect_chain == [(reverse("trash"), 302)]
    assert "not a Trash page link" in response.text


def test_a_hand_edited_older_link_under_htmx_is_a_400_that_swaps_nothing(cast):
    response = client_for(cast.bob).get(reverse("trash"), {"before": "yesterday"}, **HTMX)
    assert response.status_code == 400 and "not a Trash page link" in response.text


def test_deleting_a_video_already_in_the_trash_says_so(cast):
    video = _trash(cast, _finished(cast, cast.bob))
    deleted_at = video.deleted_at
    response = _post(cast.bob, "video_delete", video, **HTMX)
    assert "already in the Trash" in response.text and "Undo" not in response.text
    response = _post(cast.bob, "video_delete", video, follow=True)
    assert "already in the Trash" in response.text
    assert Video.objects.get(pk=video.pk).deleted_at == deleted_at


def test_a_trashed_videos_page_offers_restore_instead_of_delete(cast):
    video = _trash(cast, _finished(cast, cast.bob))
    html = client_for(cast.bob).get(reverse("video_detail", args=[video.pk])).text
    assert reverse("video_restore", args=[video.pk]) in html
    assert reverse("video_delete", args=[video.pk]) not in html
    response = _post(cast.bob, "video_restore", video, {"back": "gallery"})
    assert response.status_code == 302 and Video.objects.get(pk=video.pk).deleted_at is None


def test_the_empty_trash_says_so(cast):
    html = client_for(cast.alice).get(reverse("trash")).text
    assert "The Trash is empty." in html and reverse("trash_empty") not in html


def test_restore_from_the_trash_page(cast):
    video = _trash(cast, _finished(cast, cast.bob, prompt="bring it back"))
    response = _post(cast.bob, "video_restore", video, {"back": "trash"}, **HTMX)
    assert "Restored to the gallery." in response.text and "<article" not in response.text
    assert "bring it back" in client_for(cast.bob).get(reverse("gallery")).text


def test_delete_forever_is_for_admins_and_takes_the_files(cast, django_capture_on_commit_callbacks):
    video = _trash(cast, _finished(cast, cast.bob))
    names = [video.file.name, video.poster.name]
    response = _post(cast.bob, "trash_delete", video, **HTMX)
    assert response.status_code == 403 and Video.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(cast.alice, "trash_delete", video, **HTMX)
    assert response.status_code == 200 and "Deleted for good" in response.text
    assert not Video.objects.exists()
    assert not any(default_storage.exists(name) for name in names)


def test_delete_forever_leaves_a_video_restored_meanwhile(cast):
    video = _finished(cast, cast.bob)
    assert not services.trash_delete(video=video, by=_member(cast, cast.alice))
    assert Video.objects.exists()


def test_an_admin_empties_the_trash(cast, django_capture_on_commit_callbacks):
    trashed = [_trash(cast, _finished(cast, cast.bob, prompt=f"old {i}")) for i in range(3)]
    kept = _finished(cast, cast.bob, prompt="kept")
    theirs = make_video(cast.other, cast.charlie, deleted_at=timezone.now())
    assert client_for(cast.bob).post(reverse("trash_empty")).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.alice).post(reverse("trash_empty"), follow=True)
    assert "Emptied the Trash: 3 videos deleted." in response.text
    assert set(Video.objects.values_list("pk", flat=True)) == {kept.pk, theirs.pk}
    assert not any(default_storage.exists(v.file.name) for v in trashed)
    assert default_storage.exists(kept.file.name)


# The purge and its schedule


def test_the_purge_takes_what_is_past_trash_days_with_its_files_and_keeps_the_rest(
    cast, conf, django_capture_on_commit_callbacks
):
    conf.TRASH_DAYS = 30
    old = _trash(cast, _finished(cast, cast.bob, prompt="old"), days_ago=30.5)
    young = _trash(cast, _finished(cast, cast.bob, prompt="young"), days_ago=29)
    live = _finished(cast, cast.bob, prompt="in the gallery")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.trash_purge() == 1
    assert set(Video.objects.values_list("prompt", flat=True)) == {"young", "in the gallery"}
    assert not default_storage.exists(old.file.name)
    assert not default_storage.exists(old.poster.name)
    for video in (young, live):
        assert default_storage.exists(video.file.name) and default_storage.exists(video.poster.name)


def test_the_purge_works_in_batches(cast, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("videos.services.trash.PURGE_BATCH", 2)
    for i in range(5):
        _trash(cast, _finished(cast, cast.bob, prompt=f"old {i}"), days_ago=40)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.trash_purge() == 5
    assert len(callbacks) == 3 and not Video.objects.exists()


def test_the_purge_runs_hourly_on_a_fresh_and_on_an_upgraded_install(db):
    # What the migration runs (an upgrade that only migrates), run here: the row it left in the
    # test database is gone after any transactional test, whose flush empties every table.
    Schedule.objects.filter(name=TRASH_SCHEDULE).delete()
    TRASH_MIGRATION.create_schedule(django_apps, None)
    schedule = Schedule.objects.get(name=TRASH_SCHEDULE)
    assert (schedule.func, schedule.schedule_type) == ("videos.tasks.trash_purge", Schedule.HOURLY)
    Schedule.objects.filter(name=TRASH_SCHEDULE).delete()
    services.schedules_ensure()
    services.schedules_ensure()
    made = Schedule.objects.filter(name=TRASH_SCHEDULE, func="videos.tasks.trash_purge")
    assert made.count() == 1


# The API


def test_the_api_delete_moves_to_the_trash_and_the_list_leaves_it_out(cast):
    bob = api_for(cast.bob, cast.acme)
    kept, gone = _finished(cast, cast.bob, prompt="kept"), _finished(cast, cast.bob, prompt="gone")
    answer = bob.delete(f"videos/{records.video_id(gone)}").json()
    assert answer["deleted"] is True
    assert Video.objects.get(pk=gone.pk).deleted_by == cast.bob
    listed = [v["videoId"] for v in bob.get("videos/").json()["videos"]]
    assert listed == [records.video_id(kept)]
    assert bob.delete(f"videos/{records.video_id(gone)}").json()["deleted"] is True, "idempotent"


def test_a_members_token_gets_a_403_for_a_teammates_video(cast):
    bob, alice = api_for(cast.bob, cast.acme), api_for(cast.alice, cast.acme)
    queued, finished = make_video(cast.acme, cast.alice), _finished(cast, cast.alice)
    assert error_of(bob.delete(f"videos/{records.video_id(finished)}"), 403) == MANAGE_RULE
    body = {"videoId": records.video_id(queued)}
    assert error_of(bob.post("videos/cancel", body), 403) == MANAGE_RULE
    assert Video.objects.get(pk=queued.pk).status == S.QUEUED
    assert Video.objects.get(pk=finished.pk).deleted_at is None
    # An admin's token may.
    bobs = _finished(cast, cast.bob)
    assert alice.delete(f"videos/{records.video_id(bobs)}").json()["deleted"] is True
