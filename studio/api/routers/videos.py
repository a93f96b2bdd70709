"""videos/: create, read, list, cancel and delete, as useapi.net's MiniMax API does."""

import time
from typing import Annotated

from django.http import Http404
from ninja import Router

from studio.api.access import ApiCaller
from studio.api.bodies import CancelIn, VideoCreateIn, VideoListIn
from studio.api.errors import ApiError
from studio.api.links import parse_id, video_id
from studio.api.params import JsonOrForm, StrictQuery, form_body_too
from studio.api.routers import answers, base
from studio.api.schemas import (
    CreatedOut,
    VideoDeletedOut,
    VideoOut,
    VideoPage,
    status_info,
    video_out,
)
from videos import access, selectors, services
from videos.models import PromptImage, Video

router = Router(tags=["videos"])


def row_id(value: object, kind: str, *, field: str) -> int:
    """The row id inside a composite id of `kind`, or a 400 that shows the expected form."""
    pk = parse_id(value, kind)
    if pk is None:
        raise ApiError(400, f"{field} {value!r} is not a {kind} id (user:…-minimax:…-{kind}:…).")
    return pk


def caller_video(
    caller: ApiCaller, value: str, *, manage: bool = False, trashed: bool = False
) -> Video:
    """The caller's team's video; with `manage`, one the caller may cancel or delete (the
    author's or, for an admin's token, any): a teammate's is a 403 naming that rule. One in
    the Trash only with `trashed` (DELETE, which is idempotent)."""
    pk = row_id(value, "video", field="videoId")
    lookup = access.get_video_to_manage if manage else access.get_video_for_member
    try:
        video = lookup(caller.membership, pk)
    except Http404:
        raise ApiError(404, "Not found.") from None
    # A video in the Trash is deleted as far as the API is concerned (as at useapi.net, where
    # GET after DELETE is a 404); the studio's Trash page is where it can come back from.
    if video.deleted_at is not None and not trashed:
        raise ApiError(404, "Not found: the video was deleted (it is in the studio's Trash).")
    return video


def caller_image(caller: ApiCaller, value: str, *, field: str) -> PromptImage | None:
    if not value:
        return None
    pk = row_id(value, "file", field=field)
    try:
        return access.get_image_for_member(caller.membership, pk)
    except Http404:
        raise ApiError(
            400, f"{field}: no such file in your team; upload it with POST /v1/minimax/files/."
        ) from None


@router.post(
    "/videos/create",
    response=answers({200: CreatedOut}, 404, 412, 422, 596),
    url_name="api_video_create",
    operation_id="videoCreate",
    summary="Create a video from a text prompt and/or a first-frame image",
    description="useapi.net's POST /videos/create. By default the video is queued and the "
    "answer comes at once; a 429 only past the queue limits. A team in strict mode gets "
    "useapi.net's behaviour: 429 when every slot is busy, 422 when moderated. Every field "
    "useapi.net documents is taken and checked against the model: Sora, Veo and Seedance run "
    "only on a useapi.net account, to which their fields are passed on. A create naming an "
    "account that is out of credits answers 412, one on hold 596, one that is not the team's "
    "404. The body may also be multipart/form-data or application/x-www-form-urlencoded.",
    openapi_extra=form_body_too("VideoCreateIn"),
)
def video_create(request, body: Annotated[VideoCreateIn, JsonOrForm()]):
    caller: ApiCaller = request.auth
    video = services.video_submit(
        team=caller.membership.team,
        user=caller.membership.user,
        submission=_submission(caller, body, origin=base(request)),
    )
    return CreatedOut(
        data={"id": video.upstream_id or str(video.pk)},
        statusInfo={**status_info(0, "Success"), "serviceTime": int(time.time())},
        videoId=video_id(video),
        code=200,
        replyUrl=video.reply_url,
        replyRef=video.reply_ref,
    )


def _submission(caller: ApiCaller, body: VideoCreateIn, *, origin: str) -> services.Submission:
    """The create's Submission, its account and fileIDs looked up in the caller's team."""
    account = None
    if body.account:
        try:
            account = access.get_account_for_member(caller.membership, body.account)
        except Http404 as exc:
            raise ApiError(
                404, f"account: {exc} GET /v1/minimax/accounts/ lists the team's accounts."
            ) from None
    choice = body.choice
    image = caller_image(caller, body.fileID, field="fileID")
    return services.Submission(
        prompt=body.prompt,
        prompt_optimization=body.promptOptimization is not False,
        model=choice.model,
        resolution=choice.resolution,
        duration=choice.duration,
        image=None if choice.subject else image,
        subject_image=image if choice.subject else None,
        last_image=caller_image(caller, body.end_frame_fileID, field="end_frame_fileID"),
        useapi_only=choice.useapi_only,
        passthrough=choice.passthrough,
        references=tuple(caller_image(caller, ref, field=f) for f, ref in body.references),
        account=account,
        max_jobs=body.maxJobs,
        reply_url=body.replyUrl,
        reply_ref=body.replyRef,
        origin=origin,
        **services.FROM_API,
    )


@router.post(
    "/videos/cancel",
    response=answers({200: VideoOut}, 403, 404),
    url_name="api_video_cancel",
    operation_id="videoCancel",
    summary="Cancel a video that has not finished",
    openapi_extra=form_body_too("CancelIn"),
    exclude_unset=True,
)
def video_cancel(request, body: Annotated[CancelIn, JsonOrForm()]):
    caller: ApiCaller = request.auth
    video = caller_video(caller, body.videoId, manage=True)
    if not services.video_cancel(video=video, by=caller.membership.user):
        video.refresh_from_db()
        if video.status != Video.Status.CANCELLED:
            raise ApiError(400, f"The video already ended ({video.status}); nothing to cancel.")
    video.refresh_from_db()
    return video_out(video, base=base(request))


@router.get(
    "/videos/",
    response=answers({200: VideoPage}, 404),
    url_name="api_videos",
    operation_id="videoList",
    summary="List the team's videos, newest first",
    description="Page with lastVideoId: pass the lastVideoId of one answer to get the next "
    "page; it is null on the last one.",
    exclude_unset=True,
)
def video_list(request, query: Annotated[VideoListIn, StrictQuery()]):
    caller: ApiCaller = request.auth
    before = row_id(query.lastVideoId, "video", field="lastVideoId") if query.lastVideoId else None
    account = None
    if query.account:
        account = access.get_account_for_member(caller.membership, query.account)
    page = selectors.video_list(
        team=caller.membership.team, before=before, limit=query.limit or 30, account=account
    )
    here = base(request)
    return VideoPage(
        videos=[video_out(v, base=here) for v in page.videos],
        lastVideoId=video_id(page.videos[-1]) if page.next_before else None,
        code=200,
    )


@router.get(
    "/videos/{videoId}",
    response=answers({200: VideoOut}, 404),
    url_name="api_video",
    operation_id="videoGet",
    summary="A video's status and result",
    exclude_unset=True,
)
def video_get(request, videoId: str):
    video = selectors.video_with_position(video=caller_video(request.auth, videoId))
    return video_out(video, base=base(request))


@router.delete(
    "/videos/{videoId}",
    response=answers({200: VideoDeletedOut}, 403, 404),
    url_name="api_video",
    operation_id="videoDelete",
    summary="Delete a finished video",
    description="Moves the video to the team's Trash: it leaves GET videos/ at once, its author "
    "or an admin can restore it in the studio for TRASH_DAYS (30 by default), then it is purged "
    "with its files. A member's token may delete only its member's own videos (403 otherwise).",
)
def video_delete(request, videoId: str):
    caller: ApiCaller = request.auth
    video = caller_video(caller, videoId, manage=True, trashed=True)
    services.video_trash(video=video, by=caller.membership)  # False when it was there already
    return VideoDeletedOut(videoId=videoId, deleted=True, code=200)
