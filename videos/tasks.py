"""django-q2 entry points: ids in, one service call, nothing else."""

from videos import services


def dispatch() -> list[int]:
    return services.videos_dispatch()


def run_video(video_id: int, attempt: int) -> None:
    services.video_run(video_id=video_id, attempt=attempt)
