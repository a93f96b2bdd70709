from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "studio.api"
    label = "api"

    def ready(self) -> None:
        # Imported here: the app registry is not ready when this module loads.
        from studio.api import recreate, services
        from studio.teams import hooks
        from videos import hooks as video_hooks

        # A member who leaves (or is removed) loses their tokens for that team, so rejoining
        # later does not wake them.
        hooks.member_leaving.append(services.api_tokens_revoke_for)
        # A video's detail page shows the API call that makes it again.
        video_hooks.video_api_call.append(recreate.video_create_curl)
