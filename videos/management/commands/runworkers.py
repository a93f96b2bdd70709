from django.core.management.base import BaseCommand

from videos.supervisor import Supervisor, run_supervised, worker_child


class Command(BaseCommand):
    help = (
        "Run the django-q2 task cluster under the studio's supervisor (runstudio without the "
        "web server): restarted when it stops or is stuck, dead workers' videos handed back."
    )

    def handle(self, *args, **options):
        supervisor = Supervisor(worker=worker_child())
        run_supervised(self, supervisor, "Task cluster running (Ctrl-C stops)")
