"""django-q2 entry points: ids in, one service call, nothing else."""

from videos import hooks, joins, scheduler, services


def dispatch() -> list[int]:
    services.dispatch_started()
    started = scheduler.videos_dispatch()
    scheduler.scheduler_ensure()
    # Joins whose worker died: enqueued again, or failed after joins.MAX_LOSSES.
    joins.joins_resume()
    hooks.run(hooks.dispatch_ran)
    return started


def run_video(video_id: int, attempt: int) -> None:
    # `attempt` is the Attempt's id, the claim's token (videos.scheduler.claims.video_claim).
    scheduler.video_run(video_id=video_id, attempt=attempt)


def video_join_run(video_id: int) -> None:
    # A joined video's clips, concatenated (services.video_join enqueues it).
    joins.join_run(video_id=video_id)


def scheduler_loop() -> None:
    scheduler.scheduler_loop()


def trash_purge() -> int:
    """Hourly (services.schedules_ensure): videos in the Trash past conf.TRASH_DAYS go for good."""
    return services.trash_purge()
