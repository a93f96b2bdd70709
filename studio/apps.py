from django.apps import AppConfig


class StudioConfig(AppConfig):
    """The project itself, as an app only so that its system checks are registered."""

    name = "studio"
    verbose_name = "Studio project"

    def ready(self) -> None:
        # checks registers the system checks; conf reads the studio's knobs now, so a bad value
        # stops every command at start rather than the first request that reads it.
        from studio import checks, conf  # noqa: F401
