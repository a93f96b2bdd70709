from django.db import migrations

NAME = "studio: purge the Trash"


def create_schedule(apps, schema_editor):
    # Hourly: videos in the Trash past TRASH_DAYS go for good, files and all. The same schedule
    # as videos.services.dispatch.schedules_ensure makes (run by `bootstrap`), so an upgrade
    # that only migrates gets it too.
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "videos.tasks.trash_purge", "schedule_type": "H", "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0012_prompt_search"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
