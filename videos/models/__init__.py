"""The video domain's models, one module per area; imported from here everywhere."""

from videos.models.accounts import DispatchFlag, ProviderAccount, SchedulerLease, UpstreamCall
from videos.models.usage import MemberQuota
from videos.models.videos import (
    Attempt,
    PromptImage,
    Video,
    VideoPart,
    image_upload_to,
    video_upload_to,
)
from videos.models.workspace import Collection, CollectionItem, Favourite, GalleryPrefs

__all__ = [
    "Attempt",
    "Collection",
    "CollectionItem",
    "DispatchFlag",
    "Favourite",
    "GalleryPrefs",
    "MemberQuota",
    "PromptImage",
    "ProviderAccount",
    "SchedulerLease",
    "UpstreamCall",
    "Video",
    "VideoPart",
    "image_upload_to",
    "video_upload_to",
]
