"""The API call that makes a video again: POST videos/create with the body the API takes
(studio/api/bodies.py VideoCreateIn), its images named by fileID. Shown, ready to copy, on the
video's detail page through videos.hooks.video_api_call."""

import json
import shlex

from django.urls import reverse

from studio.api.links import file_id
from videos.models import PromptImage, Video
from videos.providers.api_models import API_MODELS, REFERENCE_FIELDS

# What the account's default model makes when a video names only one of the two.
DEFAULT_RESOLUTION, DEFAULT_DURATION = "768P", 6


def video_create_body(video: Video) -> dict:
    """The JSON body of a create asking for what `video` asked for. An image deleted since is
    left out: the call then needs a fileID uploaded again."""
    body: dict = {}
    if video.prompt:
        body["prompt"] = video.prompt
    if not video.prompt_optimization:
        body["promptOptimization"] = False
    if video.subject_image is not None:
        # The API names a subject reference as S2V-01 with the face as fileID.
        body["model"] = "S2V-01"
        body["fileID"] = file_id(video.subject_image)
        return body
    if video.model:
        body["model"] = video.model
    if video.image is not None:
        body["fileID"] = file_id(video.image)
    if video.last_image is not None:
        body["end_frame_fileID"] = file_id(video.last_image)
    if video.useapi_only:
        body.update(_passthrough(video))
    elif options := _options(video):
        body["options"] = options
    return body


def _options(video: Video) -> str:
    """MiniMax's resolution and length as useapi.net's `options` ("768p-6sec"), when the model
    takes one."""
    if not (video.resolution or video.requested_duration):
        return ""
    spec = API_MODELS.get(video.model) if video.model else None
    options = (
        f"{(video.resolution or DEFAULT_RESOLUTION).lower()}-"
        f"{video.requested_duration or DEFAULT_DURATION}sec"
    )
    if spec is not None and options not in spec.options:
        return ""
    return options


def _passthrough(video: Video) -> dict:
    """A useapi.net-only model's own fields as the API took them, and fileID2.. again."""
    sent = dict(video.passthrough or {})
    ids = sent.pop("references", []) or []
    images = PromptImage.objects.filter(team_id=video.team_id).in_bulk(ids)
    references = [images[pk] for pk in ids if pk in images]
    return {**sent, **{f: file_id(i) for f, i in zip(REFERENCE_FIELDS, references, strict=False)}}


def video_create_curl(video: Video, site: str) -> str:
    """The create as a curl command; the token comes from the environment, never the page."""
    if video.kind != Video.Kind.GENERATE:
        return ""  # a joined video is made from clips, which the API does not do
    body = json.dumps(video_create_body(video), ensure_ascii=False)
    return (
        f'curl -X POST "{site}{reverse("api_video_create")}" \\\n'
        '  -H "Authorization: Bearer $STUDIO_API_TOKEN" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d {shlex.quote(body)}"
    )
