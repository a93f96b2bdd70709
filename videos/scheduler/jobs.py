"""What a provider is given for one attempt: the job (prompt, options, frames, callback URL),
and where an attempt's result files are stored."""

import hashlib
import hmac
import shutil
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from studio import conf
from videos.models import Attempt, PromptImage, ProviderAccount, Video
from videos.providers import Job, ProviderError


def job_for(video: Video, attempt: Attempt, workdir: Path) -> Job:
    callback = ""
    minimax = attempt.account.kind == ProviderAccount.Kind.MINIMAX
    if conf.PUBLIC_URL and attempt.callback_token and minimax:
        callback = f"{conf.PUBLIC_URL}/hooks/minimax/{attempt.callback_token}/"
    return Job(
        video_id=video.pk,
        prompt=video.prompt,
        prompt_optimization=video.prompt_optimization,
        image_path=_copy_image(video.image, workdir, "first") if video.image else None,
        last_image_path=(
            _copy_image(video.last_image, workdir, "last") if video.last_image else None
        ),
        subject_image_path=(
            _copy_image(video.subject_image, workdir, "subject") if video.subject_image else None
        ),
        model=video.model,
        resolution=video.resolution,
        duration=video.requested_duration,
        passthrough={k: v for k, v in video.passthrough.items() if k != "references"},
        reference_paths=_references(video, workdir),
        callback_url=callback,
    )


def _references(video: Video, workdir: Path) -> tuple[Path, ...]:
    """Local copies of a useapi.net-only video's extra reference images, fileID2 first. One
    deleted since the create fails the video: sending it without would be a different video."""
    ids = video.passthrough.get("references") or []
    found = PromptImage.objects.in_bulk(ids)
    missing = [n for n, pk in enumerate(ids, 2) if pk not in found]
    if missing:
        raise ProviderError(
            f"The reference image given as fileID{missing[0]} was deleted before the video "
            "was sent; create it again with a new upload.",
            permanent=True,
        )
    return tuple(_copy_image(found[pk], workdir, f"ref{n}") for n, pk in enumerate(ids, 2))


def _copy_image(image: PromptImage, workdir: Path, stem: str) -> Path:
    target = workdir / f"{stem}-frame.{image.file.name.rsplit('.', 1)[-1]}"
    with image.file.open("rb") as src, target.open("wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    return target


def store(path: Path, name: str) -> str:
    """Streams a result file into storage in chunks; it is never read whole into memory."""
    with path.open("rb") as fh:
        return default_storage.save(name, File(fh, name=name))


def upload_name(video: Video, ext: str) -> str:
    return Video._meta.get_field("file").generate_filename(video, f"result.{ext}")


def result_name(*, team_id: int, video_id: int, attempt: int, ext: str) -> str:
    """Where a local render's attempt stores its result: unguessable, as upload names are, but
    derived, so whoever hands back a dead worker's attempt can delete what it stored before it
    died. Only one run per attempt gets past video_run's claim, so no other run writes here."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"result:{video_id}:{attempt}:{ext}".encode(), hashlib.sha256)
    return f"videos/team-{team_id}/{digest.hexdigest()[:32]}.{ext}"


def result_names(*, team_id: int, video_id: int, attempt: int) -> dict[str, str]:
    return {
        ext: result_name(team_id=team_id, video_id=video_id, attempt=attempt, ext=ext)
        for ext in ("mp4", "jpg")
    }


def discard_results(*, team_id: int, video_id: int, attempt: int) -> None:
    for name in result_names(team_id=team_id, video_id=video_id, attempt=attempt).values():
        default_storage.delete(name)
