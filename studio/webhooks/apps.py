from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "studio.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        # Imported here: the app registry is not ready when this module loads.
        from studio.webhooks import deliveries
        from videos import hooks

        # videos cannot import this app; the scheduler runs these at its hook points.
        hooks.videos_changed.append(deliveries.callbacks_collect)
        hooks.dispatch_ran.append(deliveries.callbacks_due)
