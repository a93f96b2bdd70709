"""One video: its detail page (or a dialog over the gallery), reuse, retry and continue."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET, require_POST


@require_GET
@login_required
def video_detail(request, video_id: int):
    raise NotImplementedError  # TODO(H2)


@require_GET
@login_required
def video_reuse(request, video_id: int):
    raise NotImplementedError  # TODO(H2)


@require_POST
@login_required
def video_retry(request, video_id: int):
    raise NotImplementedError  # TODO(H2)


@require_POST
@login_required
def video_continue(request, video_id: int):
    raise NotImplementedError  # TODO(H2)
