from django.urls import path

import studio.lib.converters  # noqa: F401  (registers <id:>)
from videos import views

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
    path("team/accounts/", views.accounts, name="accounts"),
    path("team/accounts/new", views.account_new, name="account_new"),
    path("team/accounts/<id:account_id>/edit", views.account_edit, name="account_edit"),
    path("team/accounts/<id:account_id>/toggle", views.account_toggle, name="account_toggle"),
    path("team/accounts/<id:account_id>/resume", views.account_resume, name="account_resume"),
    path("team/accounts/<id:account_id>/delete", views.account_delete, name="account_delete"),
    path("team/accounts/<id:account_id>/test", views.account_test, name="account_test"),
    path("hooks/minimax/<str:token>/", views.minimax_callback, name="minimax_callback"),
]
