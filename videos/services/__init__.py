"""Writes. Views and tasks call these; nothing else changes a video, an image or an account.

Slot accounting is derived, not counted: an account's busy slots are its running videos.
Every state change is a conditional UPDATE, so a worker that lost its claim (the video was
cancelled, or taken back after it went quiet) cannot overwrite the winner.

One module per concern: submit (the one path for UI and API), videos, images, accounts,
dispatch, bootstrap. The names are re-exported here, so callers write `services.video_submit`.
"""

from studio.lib.errors import ServiceError
from videos.services.accounts import (
    ConnectionTest,
    account_create,
    account_delete,
    account_ensure_local,
    account_ensure_local_for,
    account_resume,
    account_test,
    account_update,
)
from videos.services.bootstrap import Bootstrap, studio_bootstrap
from videos.services.bulk import video_join, videos_trash, videos_zip
from videos.services.collections import (
    collection_add,
    collection_create,
    collection_delete,
    collection_remove,
    collection_rename,
    favourite_set,
    favourite_toggle,
    gallery_density_set,
)
from videos.services.dispatch import (
    DISPATCH_FLAG,
    DISPATCH_FLAG_SECONDS,
    dispatch_request,
    dispatch_started,
    schedules_ensure,
)
from videos.services.errors import AccountUnavailable, QueueFull, QuotaExceeded, Refused
from videos.services.images import image_delete, image_store
from videos.services.quotas import quota_check, quota_set
from videos.services.reuse import video_last_frame, video_retry
from videos.services.submit import FROM_API, Submission, check_prompt, video_submit
from videos.services.trash import (
    trash_delete,
    trash_empty,
    trash_purge,
    video_restore,
    video_trash,
)
from videos.services.videos import (
    video_cancel,
    video_untrack,
    video_upstream_callback,
)

__all__ = [
    "DISPATCH_FLAG",
    "DISPATCH_FLAG_SECONDS",
    "FROM_API",
    "AccountUnavailable",
    "Bootstrap",
    "ConnectionTest",
    "QueueFull",
    "QuotaExceeded",
    "Refused",
    "ServiceError",
    "Submission",
    "account_create",
    "account_delete",
    "account_ensure_local",
    "account_ensure_local_for",
    "account_resume",
    "account_test",
    "account_update",
    "check_prompt",
    "collection_add",
    "collection_create",
    "collection_delete",
    "collection_remove",
    "collection_rename",
    "dispatch_request",
    "dispatch_started",
    "favourite_set",
    "favourite_toggle",
    "gallery_density_set",
    "image_delete",
    "image_store",
    "quota_check",
    "quota_set",
    "schedules_ensure",
    "studio_bootstrap",
    "trash_delete",
    "trash_empty",
    "trash_purge",
    "video_cancel",
    "video_join",
    "video_last_frame",
    "video_restore",
    "video_retry",
    "video_submit",
    "video_trash",
    "video_untrack",
    "video_upstream_callback",
    "videos_trash",
    "videos_zip",
]
