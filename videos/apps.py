from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"
    verbose_name = "Studio"

    def ready(self) -> None:
        # Imported here: models and signals are not ready when this module loads.
        from django_q.signals import post_execute_in_worker, post_spawn, pre_execute

        from studio.teams import hooks
        from videos import selectors, services, workers

        # Every new team gets the local renderer (studio.teams cannot import videos).
        hooks.team_created.append(services.account_ensure_local_for)
        # The team page lists the team's accounts.
        hooks.team_page.append(selectors.team_page_accounts)

        # Each worker records what it is doing, for the stuck-cluster check and for handing
        # back a dead worker's render (videos/workers.py). Only records; no studio logic.
        post_spawn.connect(workers.worker_spawned, dispatch_uid="studio-worker-spawned")
        pre_execute.connect(workers.worker_task_started, dispatch_uid="studio-task-started")
        post_execute_in_worker.connect(
            workers.worker_task_finished, dispatch_uid="studio-task-finished"
        )
