from django.urls import path

import studio.lib.converters  # noqa: F401  (registers <id:>)
from videos.views import (
    accounts,
    bulk,
    callbacks,
    collections,
    detail,
    files,
    gallery,
    live,
    trash,
    usage,
)

urlpatterns = [
    # The gallery (search and filters in the query string) and the composer.
    path("", gallery.gallery, name="gallery"),
    path("videos/new", gallery.video_create, name="video_create"),
    path("gallery/density", collections.density_set, name="gallery_density"),
    # One poll per page for every card in progress on it.
    path("videos/poll", live.poll, name="videos_poll"),
    path("videos/<id:video_id>/card", live.video_card, name="video_card"),
    # One video: detail (page, or a dialog over the gallery), reuse, retry, continue.
    path("videos/<id:video_id>/", detail.video_detail, name="video_detail"),
    path("videos/<id:video_id>/reuse", detail.video_reuse, name="video_reuse"),
    path("videos/<id:video_id>/retry", detail.video_retry, name="video_retry"),
    path("videos/<id:video_id>/continue", detail.video_continue, name="video_continue"),
    path("videos/<id:video_id>/favourite", collections.favourite_toggle, name="video_favourite"),
    path(
        "videos/<id:video_id>/collections",
        collections.video_collections,
        name="video_collections",
    ),
    # Ownership and the Trash.
    path("videos/<id:video_id>/cancel", trash.video_cancel, name="video_cancel"),
    path("videos/<id:video_id>/delete", trash.video_delete, name="video_delete"),
    path("videos/<id:video_id>/restore", trash.video_restore, name="video_restore"),
    path("trash/", trash.trash, name="trash"),
    path("trash/<id:video_id>/delete", trash.trash_delete, name="trash_delete"),
    path("trash/empty", trash.trash_empty, name="trash_empty"),
    # Several videos at once: delete, add to or remove from a collection, zip, join.
    path("videos/bulk", bulk.bulk, name="videos_bulk"),
    # Collections.
    path("collections/", collections.collections, name="collections"),
    path(
        "collections/<id:collection_id>/rename",
        collections.collection_rename,
        name="collection_rename",
    ),
    path(
        "collections/<id:collection_id>/delete",
        collections.collection_delete,
        name="collection_delete",
    ),
    # Files.
    path("videos/<id:video_id>/video.mp4", files.video_file, {"kind": "mp4"}, name="video_mp4"),
    path(
        "videos/<id:video_id>/poster.jpg", files.video_file, {"kind": "poster"}, name="video_poster"
    ),
    path("images/<id:image_id>", files.image_file, name="image_file"),
    # Usage per member and account (admins see everyone's), and members' quotas.
    path("team/usage/", usage.usage, name="usage"),
    path("team/usage/quota/<id:membership_id>", usage.quota_set, name="usage_quota"),
    # Provider accounts (team admins).
    path("team/accounts/", accounts.accounts, name="accounts"),
    path("team/accounts/new", accounts.account_new, name="account_new"),
    path("team/accounts/<id:account_id>/edit", accounts.account_edit, name="account_edit"),
    path("team/accounts/<id:account_id>/toggle", accounts.account_toggle, name="account_toggle"),
    path("team/accounts/<id:account_id>/resume", accounts.account_resume, name="account_resume"),
    path("team/accounts/<id:account_id>/delete", accounts.account_delete, name="account_delete"),
    path("team/accounts/<id:account_id>/test", accounts.account_test, name="account_test"),
    path("hooks/minimax/<str:token>/", callbacks.minimax_callback, name="minimax_callback"),
]
