"""Favourites (a member's own stars), the team's collections, and the gallery's density."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studio.lib.errors import ServiceError
from studio.teams.models import Membership
from tests.conftest import client_for
from tests.factories import make_video
from videos import selectors, selectors_collections, services
from videos.models import Collection, CollectionItem, Favourite, GalleryPrefs

HTMX = {"HTTP_HX_REQUEST": "true"}


def _member(cast, user):
    return Membership.objects.get(user=user, team=cast.acme)


def _collection(cast, user, name="Launch trailer"):
    return services.collection_create(membership=_member(cast, user), name=name)


def _done(cast, author=None, **fields):
    fields.setdefault("status", "completed")
    return make_video(cast.acme, author or cast.bob, **fields)


# Favourites


def test_a_star_goes_on_and_off_for_its_user_only(cast):
    video = _done(cast)
    assert services.favourite_toggle(user=cast.bob, video=video) is True
    videos = [video]
    selectors.mark_favourites(user=cast.alice, videos=videos)
    assert videos[0].is_favourite is False, "alice does not see bob's star"
    selectors.mark_favourites(user=cast.bob, videos=videos)
    assert videos[0].is_favourite is True
    assert services.favourite_toggle(user=cast.bob, video=video) is False
    assert not Favourite.objects.exists()


def test_setting_a_star_twice_changes_nothing(cast):
    video = _done(cast)
    for _ in range(2):
        services.favourite_set(user=cast.bob, video=video, on=True)
    assert Favourite.objects.filter(user=cast.bob).count() == 1
    for _ in range(2):
        services.favourite_set(user=cast.bob, video=video, on=False)
    assert not Favourite.objects.exists()


def test_the_star_button_swaps_itself_with_htmx(cast):
    video = _done(cast)
    response = client_for(cast.bob).post(reverse("video_favourite", args=[video.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'aria-pressed="true"' in html
    assert "Remove from favourites" in html and "<article" not in html
    response = client_for(cast.bob).post(reverse("video_favourite", args=[video.pk]), **HTMX)
    assert 'aria-pressed="false"' in response.content.decode()
    assert "Add to favourites" in response.content.decode()


def test_the_star_without_javascript_goes_back_to_the_page_it_was_on(cast):
    video = _done(cast)
    url = reverse("video_favourite", args=[video.pk])
    client = client_for(cast.bob)
    response = client.post(url, {"next": "/?q=fox&status=completed"})
    assert response.status_code == 302 and response.url == "/?q=fox&status=completed"
    for unsafe in ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""]:
        response = client.post(url, {"next": unsafe})
        assert response.url == reverse("gallery"), unsafe


def test_the_gallery_shows_my_stars_and_not_my_teammates(cast):
    starred, plain = _done(cast, prompt="Starred one"), _done(cast, prompt="Plain one")
    services.favourite_set(user=cast.bob, video=starred, on=True)
    bob = client_for(cast.bob).get(reverse("gallery")).content.decode()
    alice = client_for(cast.alice).get(reverse("gallery")).content.decode()
    assert bob.count('aria-pressed="true" aria-label="Remove from favourites"') == 1
    assert alice.count('aria-label="Remove from favourites"') == 0
    assert alice.count('aria-label="Add to favourites"') == 2
    assert f'action="/videos/{plain.pk}/favourite"' in bob


def test_an_outsider_cannot_star_a_teams_video(cast):
    video = _done(cast)
    response = client_for(cast.charlie).post(reverse("video_favourite", args=[video.pk]))
    assert response.status_code == 404 and not Favourite.objects.exists()


def test_the_star_takes_the_csrf_token_htmx_sends(cast):
    video = _done(cast)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bob)
    url = reverse("video_favourite", args=[video.pk])
    assert client.post(url, **HTMX).status_code == 403
    client.get(reverse("gallery"))
    token = client.cookies["csrftoken"].value
    assert client.post(url, HTTP_X_CSRFTOKEN=token, **HTMX).status_code == 200


# Collections: names


def test_a_collection_name_is_stripped_and_kept(cast):
    collection = _collection(cast, cast.bob, name="  Launch trailer \n")
    assert collection.name == "Launch trailer" and collection.created_by == cast.bob


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("   ", "Give the collection a name."),
        ("x" * 81, "Keep the name to 80 characters (it has 81)."),
        ("tab\there", "control characters"),
        ("nul\x00", "control characters"),
    ],
)
def test_a_bad_collection_name_is_refused_with_a_reason(cast, name, says):
    with pytest.raises(ServiceError) as refused:
        _collection(cast, cast.bob, name=name)
    assert says in refused.value.message and refused.value.field == "name"


@pytest.mark.parametrize("again", ["launch TRAILER", " Launch trailer "])
def test_two_collections_of_a_team_cannot_share_a_name_whatever_the_case(cast, again):
    _collection(cast, cast.alice, name="Launch trailer")
    with pytest.raises(ServiceError) as refused:
        _collection(cast, cast.bob, name=again)
    assert "already has a collection called" in refused.value.message
    assert refused.value.field == "name"


def test_names_are_compared_beyond_ascii(cast):
    _collection(cast, cast.alice, name="Été")
    with pytest.raises(ServiceError):
        _collection(cast, cast.bob, name="ÉTÉ")


def test_another_team_may_use_the_same_name(cast):
    _collection(cast, cast.alice)
    other = Membership.objects.get(user=cast.charlie)
    assert services.collection_create(membership=other, name="Launch trailer").pk


# Collections: who may rename and delete


def test_the_creator_and_an_admin_may_rename_a_collection(cast):
    collection = _collection(cast, cast.bob)
    services.collection_rename(collection=collection, membership=_member(cast, cast.bob), name="A")
    services.collection_rename(
        collection=collection, membership=_member(cast, cast.alice), name="B"
    )
    collection.refresh_from_db()
    assert collection.name == "B"


def test_renaming_to_the_same_name_in_another_case_is_allowed(cast):
    collection = _collection(cast, cast.bob, name="launch")
    services.collection_rename(
        collection=collection, membership=_member(cast, cast.bob), name="Launch"
    )
    assert Collection.objects.get().name == "Launch"


def test_a_member_may_not_rename_or_delete_a_teammates_collection(cast):
    collection = _collection(cast, cast.alice)
    bob = _member(cast, cast.bob)
    with pytest.raises(ServiceError, match="creator or a team admin can rename"):
        services.collection_rename(collection=collection, membership=bob, name="Mine now")
    with pytest.raises(ServiceError, match="creator or a team admin can delete"):
        services.collection_delete(collection=collection, membership=bob)
    assert Collection.objects.get().name == "Launch trailer"


def test_renaming_onto_another_collections_name_is_refused(cast):
    _collection(cast, cast.bob, name="Teasers")
    collection = _collection(cast, cast.bob, name="Drafts")
    with pytest.raises(ServiceError) as refused:
        services.collection_rename(
            collection=collection, membership=_member(cast, cast.bob), name="teasers"
        )
    assert refused.value.field == "name"


def test_deleting_a_collection_keeps_its_videos(cast):
    collection = _collection(cast, cast.bob)
    video = _done(cast)
    services.collection_add(
        collection=collection, membership=_member(cast, cast.bob), videos=[video]
    )
    services.collection_delete(collection=collection, membership=_member(cast, cast.alice))
    assert not Collection.objects.exists() and not CollectionItem.objects.exists()
    video.refresh_from_db()


# Collections: adding and removing videos


def test_adding_and_removing_videos_is_idempotent_and_counts_changes(cast):
    collection = _collection(cast, cast.alice)
    bob = _member(cast, cast.bob)
    one, two = _done(cast), _done(cast)
    assert services.collection_add(collection=collection, membership=bob, videos=[one, two]) == 2
    assert services.collection_add(collection=collection, membership=bob, videos=[one, two]) == 0
    assert services.collection_remove(collection=collection, membership=bob, videos=[one]) == 1
    assert services.collection_remove(collection=collection, membership=bob, videos=[one]) == 0
    assert list(collection.videos.all()) == [two]
    assert CollectionItem.objects.get().added_by == cast.bob


def test_videos_in_the_trash_or_of_another_team_are_not_added(cast):
    collection = _collection(cast, cast.bob)
    trashed = _done(cast, deleted_at=timezone.now())
    theirs = make_video(cast.other, cast.charlie, status="completed")
    added = services.collection_add(
        collection=collection, membership=_member(cast, cast.bob), videos=[trashed, theirs]
    )
    assert added == 0 and not CollectionItem.objects.exists()


def test_an_outsider_cannot_change_a_teams_collection_through_the_service(cast):
    collection = _collection(cast, cast.bob)
    charlie = Membership.objects.get(user=cast.charlie)
    with pytest.raises(ServiceError, match="another team"):
        services.collection_add(collection=collection, membership=charlie, videos=[])


# The Collections page


def test_the_page_lists_collections_with_counts_covers_and_gallery_links(cast):
    collection = _collection(cast, cast.bob)
    _collection(cast, cast.alice, name="Archive")
    cover = _done(cast, poster="videos/cover.jpg")
    _done_trashed = _done(cast, poster="videos/gone.jpg", deleted_at=timezone.now())
    services.collection_add(
        collection=collection, membership=_member(cast, cast.bob), videos=[cover]
    )
    CollectionItem.objects.create(collection=collection, video=_done_trashed)
    response = client_for(cast.bob).get(reverse("collections"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(">Archive</a>") < html.index(">Launch trailer</a>"), "by name"
    assert f'href="/?collection={collection.pk}"' in html
    assert ">1 video</span>" in html, "the trashed video does not count"
    assert f"/videos/{cover.pk}/poster.jpg" in html
    archive = Collection.objects.get(name="Archive")
    assert f'action="/collections/{collection.pk}/rename"' in html
    assert f'action="/collections/{collection.pk}/delete"' in html
    assert f"/collections/{archive.pk}/" not in html, "bob manages only his own"
    assert 'aria-current="page">Collections' in html


def test_creating_a_collection_from_the_page(cast):
    client = client_for(cast.bob)
    response = client.post(reverse("collections"), {"name": " Teasers "}, follow=True)
    assert response.redirect_chain == [(reverse("collections"), 302)]
    assert "Created the collection “Teasers”." in response.content.decode()
    assert Collection.objects.get().name == "Teasers"


def test_a_duplicate_name_on_the_page_says_what_to_fix(cast):
    _collection(cast, cast.alice, name="Teasers")
    response = client_for(cast.bob).post(reverse("collections"), {"name": "TEASERS"})
    assert response.status_code == 400
    assert "already has a collection called “TEASERS”" in response.content.decode()
    assert Collection.objects.count() == 1


def test_renaming_on_the_page(cast):
    collection = _collection(cast, cast.bob)
    url = reverse("collection_rename", args=[collection.pk])
    response = client_for(cast.bob).post(url, {"name": "Final cut"})
    assert response.status_code == 302
    collection.refresh_from_db()
    assert collection.name == "Final cut"


def test_a_refused_rename_reopens_its_form_with_the_reason(cast):
    collection = _collection(cast, cast.bob)
    url = reverse("collection_rename", args=[collection.pk])
    response = client_for(cast.bob).post(url, {"name": ""})
    html = response.content.decode()
    assert response.status_code == 400 and "Give the collection a name." in html
    assert 'class="collection-rename" open' in html


def test_a_name_with_a_nul_character_is_refused_not_a_500(cast):
    collection = _collection(cast, cast.bob)
    url = reverse("collection_rename", args=[collection.pk])
    response = client_for(cast.bob).post(url, {"name": "Sp\x00ring"})
    assert response.status_code == 400 and "Null characters are not allowed." in response.text
    assert Collection.objects.get().name == "Launch trailer"


def test_a_member_renaming_or_deleting_a_teammates_collection_gets_403(cast):
    collection = _collection(cast, cast.alice)
    client = client_for(cast.bob)
    rename = client.post(reverse("collection_rename", args=[collection.pk]), {"name": "x"})
    delete = client.post(reverse("collection_delete", args=[collection.pk]))
    assert rename.status_code == delete.status_code == 403
    assert "creator or a team admin" in rename.content.decode()
    assert Collection.objects.get().name == "Launch trailer"


def test_an_admin_deletes_a_members_collection(cast):
    collection = _collection(cast, cast.bob)
    response = client_for(cast.alice).post(reverse("collection_delete", args=[collection.pk]))
    assert response.status_code == 302 and not Collection.objects.exists()


def test_charlie_cannot_touch_acmes_collections(cast):
    collection = _collection(cast, cast.bob)
    video = _done(cast)
    mine = services.collection_create(
        membership=Membership.objects.get(user=cast.charlie), name="Mine"
    )
    client = client_for(cast.charlie)
    rename = reverse("collection_rename", args=[collection.pk])
    assert client.post(rename, {"name": "x"}).status_code == 404
    assert client.post(reverse("collection_delete", args=[collection.pk])).status_code == 404
    add = {"collection": collection.pk, "action": "add"}
    assert client.post(reverse("video_collections", args=[video.pk]), add).status_code == 404
    # His own collection with Acme's video: the video is not his to see.
    add = {"collection": mine.pk, "action": "add"}
    assert client.post(reverse("video_collections", args=[video.pk]), add).status_code == 404
    assert "Launch trailer" not in client.get(reverse("collections")).content.decode()
    assert Collection.objects.filter(name="Launch trailer").exists()
    assert not CollectionItem.objects.exists()


# The detail page's collections partial


def test_adding_and_removing_a_video_from_its_page_with_htmx(cast):
    collection = _collection(cast, cast.alice)
    video = _done(cast)
    url = reverse("video_collections", args=[video.pk])
    client = client_for(cast.bob)
    response = client.post(url, {"collection": collection.pk, "action": "add"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "Remove from Launch trailer" in html
    assert list(collection.videos.all()) == [video]
    response = client.post(url, {"collection": collection.pk, "action": "remove"}, **HTMX)
    assert "In no collection yet." in response.content.decode()
    assert not CollectionItem.objects.exists()


def test_adding_a_video_without_javascript_goes_back(cast):
    collection = _collection(cast, cast.bob)
    video = _done(cast)
    url = reverse("video_collections", args=[video.pk])
    data = {"collection": collection.pk, "action": "add", "next": f"/videos/{video.pk}/"}
    response = client_for(cast.bob).post(url, data)
    assert response.status_code == 302 and response.url == f"/videos/{video.pk}/"
    response = client_for(cast.bob).post(url, {"action": "add"}, follow=True)
    assert "Choose a collection." in response.content.decode()


def test_the_partial_lists_where_a_video_is_and_where_it_could_go(cast):
    held = _collection(cast, cast.bob, name="Held")
    _collection(cast, cast.bob, name="Other")
    video = _done(cast)
    services.collection_add(collection=held, membership=_member(cast, cast.bob), videos=[video])
    found = selectors_collections.video_collections(video=video)
    assert [c.name for c in found.holding] == ["Held"]
    assert [c.name for c in found.others] == ["Other"]


def test_the_detail_page_and_its_dialog_show_the_videos_collections(cast):
    held = _collection(cast, cast.bob, name="Held")
    _collection(cast, cast.bob, name="Other")
    video = _done(cast)
    services.collection_add(collection=held, membership=_member(cast, cast.bob), videos=[video])
    url = reverse("video_detail", args=[video.pk])
    for headers in ({}, HTMX):
        html = client_for(cast.alice).get(url, **headers).content.decode()
        assert f'href="/?collection={held.pk}">Held</a>' in html
        assert "Remove from Held" in html
        assert f'<option value="{held.pk + 1}">Other</option>' in html


# Density


def test_density_is_saved_per_member_and_rendered(cast):
    _done(cast)
    client = client_for(cast.bob)
    response = client.post(reverse("gallery_density"), {"density": "compact", "next": "/?q=fox"})
    assert response.status_code == 302 and response.url == "/?q=fox"
    assert GalleryPrefs.objects.get(user=cast.bob).density == "compact"
    html = client.get(reverse("gallery")).content.decode()
    assert 'class="grid grid-compact"' in html
    assert 'data-density-choice="compact"\n            aria-pressed="true"' in html
    assert 'class="grid grid-comfortable"' in client_for(cast.alice).get("/").content.decode()


def test_density_with_htmx_answers_the_control_and_an_event(cast):
    response = client_for(cast.bob).post(reverse("gallery_density"), {"density": "compact"}, **HTMX)
    assert response.status_code == 200 and 'data-density="compact"' in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {"densitychanged": {"density": "compact"}}


def test_an_unknown_density_is_refused_with_a_reason(cast):
    client = client_for(cast.bob)
    response = client.post(reverse("gallery_density"), {"density": "huge"}, follow=True)
    assert "Choose a density: comfortable or compact." in response.content.decode()
    response = client.post(reverse("gallery_density"), {"density": "huge"}, **HTMX)
    assert response.status_code == 400
    assert not GalleryPrefs.objects.exists()
    with pytest.raises(ServiceError):
        services.gallery_density_set(user=cast.bob, density="huge")
