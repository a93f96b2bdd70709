from django.db import migrations

NAME = "studio: dispatch and take back stale videos"


def create_schedule(apps, schema_editor):
    # A safety net, not the fast path: submissions and finished videos enqueue a dispatch at once.
    # This catches what nothing else will: a worker killed mid-render, or a restart with a backlog.
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "videos.tasks.dispatch", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0001_initial"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
