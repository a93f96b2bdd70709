"""Favourites, collections and the gallery's density."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_http_methods, require_POST


@require_POST
@login_required
def favourite_toggle(request, video_id: int):
    raise NotImplementedError  # TODO(H4)


@require_http_methods(["GET", "POST"])
@login_required
def collections(request):
    raise NotImplementedError  # TODO(H4)


@require_POST
@login_required
def collection_rename(request, collection_id: int):
    raise NotImplementedError  # TODO(H4)


@require_POST
@login_required
def collection_delete(request, collection_id: int):
    raise NotImplementedError  # TODO(H4)


@require_POST
@login_required
def density_set(request):
    raise NotImplementedError  # TODO(H4)
