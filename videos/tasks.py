"""django-q2 entry points: ids in, one service call, nothing else."""

from videos import hooks, scheduler, services


def dispatch() -> list[int]:
    services.dispatch_started()
    started = scheduler.videos_dispatch()
    scheduler.scheduler_ensure()
    hooks.run(hooks.dispatch_ran)
    return started


def run_video(video_id: int, attempt: int) -> None:
    # `attempt` is the Attempt's id, the claim's token (videos.scheduler.claims.video_claim).
    scheduler.video_run(video_id=video_id, attempt=attempt)


def scheduler_loop() -> None:
    scheduler.scheduler_loop()
