from django.apps import AppConfig


class StudioConfig(AppConfig):
    """The project itself, as an app only so that its system checks are registered."""

    name = "studio"
    verbose_name = "Studio project"

    def ready(self) -> None:
        from studio import checks  # noqa: F401 (registers the checks)
