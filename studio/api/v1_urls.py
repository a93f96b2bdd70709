"""/v1/: useapi.net's MiniMax paths. Both with and without the trailing slash, as scripts
written against useapi.net use either; an unknown path is a JSON 404, never an HTML page."""

from django.urls import path, re_path

from studio.api import endpoints as api


def both(route: str, view, name: str):
    return [path(route, view, name=name), path(route.rstrip("/"), view)]


urlpatterns = [
    path("openapi.json", api.openapi, name="api_openapi"),
    path("minimax/videos/create", api.video_create, name="api_video_create"),
    path("minimax/videos/cancel", api.video_cancel, name="api_video_cancel"),
    *both("minimax/videos/", api.video_list, "api_videos"),
    path("minimax/videos/<str:video_id>", api.video_detail, name="api_video"),
    *both("minimax/files/", api.files, "api_files"),
    path("minimax/files/<str:file_id>", api.file_delete, name="api_file"),
    *both("minimax/accounts/", api.accounts, "api_accounts"),
    path("minimax/accounts/<str:account>", api.account_detail, name="api_account"),
    path("minimax/scheduler/available", api.scheduler_available, name="api_available"),
    *both("minimax/scheduler/", api.scheduler_list, "api_scheduler"),
    path("minimax/scheduler/<str:video_id>", api.scheduler_delete, name="api_scheduler_delete"),
    path("minimax/media/<str:token>", api.media, name="api_media"),
    # (?s): a path may hold a newline (%0A), and the answer must still be the JSON 404.
    re_path(r"^(?P<rest>(?s:.*))$", api.not_found),
]
