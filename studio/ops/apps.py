from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What the people running the studio read: /healthz for load balancers, /metrics for
    Prometheus. Above every other app: it reads their state and none of them imports it."""

    name = "studio.ops"
    label = "ops"
