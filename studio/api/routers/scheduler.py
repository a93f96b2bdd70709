"""scheduler/: the videos the API tracks (their replyUrl still to call) and free capacity."""

from ninja import Router

from studio.api.errors import ApiError
from studio.api.links import account_ref
from studio.api.routers import answers
from studio.api.routers.videos import caller_video
from studio.api.schemas import AvailableOut, RunningOut, SlotsOut, UntrackedOut, running_out
from videos import selectors, services

router = Router(tags=["scheduler"])


@router.get(
    "/scheduler/available",
    response=answers({200: AvailableOut}),
    url_name="api_available",
    operation_id="schedulerAvailable",
    summary="Free capacity per account, the running videos and the queue's length",
)
def scheduler_available(request):
    slots, queued = selectors.account_slots(team=request.auth.membership.team)
    return AvailableOut(
        executing=[running_out(v) for s in slots for v in s.running],
        available=[
            SlotsOut(
                account=account_ref(s.account),
                name=s.account.name,
                kind=s.account.kind,
                maxJobs=s.account.max_jobs,
                executing=len(s.running),
                available=s.free if s.account.enabled and not s.account.is_paused else 0,
                enabled=s.account.enabled,
                paused=s.account.is_paused,
            )
            for s in slots
        ],
        queued=queued,
    )


@router.get(
    "/scheduler/",
    response=answers({200: list[RunningOut]}),
    url_name="api_scheduler",
    operation_id="schedulerList",
    summary="Videos the API is tracking",
)
def scheduler_list(request):
    return [running_out(v) for v in selectors.tracked_videos(team=request.auth.membership.team)]


@router.delete(
    "/scheduler/{videoId}",
    response=answers({200: UntrackedOut}, 404),
    url_name="api_scheduler_delete",
    operation_id="schedulerDelete",
    summary="Stop tracking a video: it carries on, but its replyUrl will not be called",
)
def scheduler_delete(request, videoId: str):
    if not services.video_untrack(video=caller_video(request.auth, videoId)):
        raise ApiError(404, f"Unable to locate running {videoId}")
    return UntrackedOut(videoId=videoId, tracked=False, code=200)
