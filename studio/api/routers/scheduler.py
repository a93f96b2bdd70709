"""scheduler/: the videos the API tracks (their replyUrl still to call) and free capacity."""

from typing import Annotated

from ninja import Router

from studio.api.bodies import AvailableIn
from studio.api.errors import ApiError
from studio.api.links import account_ref
from studio.api.params import StrictQuery
from studio.api.routers import answers
from studio.api.routers.videos import caller_video
from studio.api.schemas import AvailableOut, RunningOut, SlotsOut, UntrackedOut, running_out
from videos import selectors, services
from videos.models import ProviderAccount

router = Router(tags=["scheduler"])


@router.get(
    "/scheduler/available",
    response=answers({200: AvailableOut}),
    url_name="api_available",
    operation_id="schedulerAvailable",
    summary="The accounts that can start a video now, most free first; the running videos",
    description="`available` lists only enabled accounts that are neither paused nor rate "
    "limited and have a free slot: `available` is maxJobs less the videos running on the "
    "account and the queued videos pinned to it (`queued`), and at most the creates its rate "
    "still allows. Pick the first; an empty list means wait. `executing` is every running video "
    "of the team, `queued` the length of its queue. With `model`, only the accounts that can "
    "run it are listed (Sora, Veo and Seedance: useapi.net accounts).",
)
def scheduler_available(request, query: Annotated[AvailableIn, StrictQuery()]):
    slots, queued = selectors.account_slots(team=request.auth.membership.team)
    useapi = ProviderAccount.Kind.USEAPI
    ready = sorted(
        (
            s
            for s in slots
            if s.available > 0 and (not query.useapi_only or s.account.kind == useapi)
        ),
        key=lambda s: (-s.available, s.account.pk),
    )
    return AvailableOut(
        executing=[running_out(v) for s in slots for v in s.running],
        available=[
            SlotsOut(
                account=account_ref(s.account),
                name=s.account.name,
                kind=s.account.kind,
                maxJobs=s.account.max_jobs,
                executing=len(s.running),
                available=s.available,
                queued=s.pinned,
                enabled=s.account.enabled,
                paused=s.account.is_paused,
            )
            for s in ready
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
