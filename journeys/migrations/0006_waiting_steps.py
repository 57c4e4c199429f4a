"""Waiting steps become rows (``WaitingStep``) instead of the JSON list ``Journey.active_steps``.

The JSON held Mint's camelCase shape ([{"stepId": …, "stepType": …}]); each entry becomes one row, in order.
0007 then drops the JSON column (in a transaction of its own: PostgreSQL refuses to alter a table while the
rows written here still have foreign-key checks pending). Going back writes the rows into the JSON again.
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 1000


def json_to_rows(apps, schema_editor):
    Journey = apps.get_model("journeys", "Journey")
    WaitingStep = apps.get_model("journeys", "WaitingStep")
    rows = []
    waiting = Journey.objects.exclude(active_steps=[]).values_list("id", "active_steps")
    for journey_id, steps in waiting.iterator(chunk_size=BATCH):
        for position, step in enumerate(steps or []):
            if isinstance(step, dict) and step.get("stepId") and step.get("stepType"):
                rows.append(WaitingStep(journey_id=journey_id, step_id=str(step["stepId"]),
                                        step_type=str(step["stepType"]), position=position))
        if len(rows) >= BATCH:
            WaitingStep.objects.bulk_create(rows)
            rows = []
    WaitingStep.objects.bulk_create(rows)


def rows_to_json(apps, schema_editor):
    Journey = apps.get_model("journeys", "Journey")
    WaitingStep = apps.get_model("journeys", "WaitingStep")
    steps = {}
    for journey_id, step_id, step_type in WaitingStep.objects.order_by("journey_id", "position").values_list(
        "journey_id", "step_id", "step_type"
    ):
        steps.setdefault(journey_id, []).append({"stepId": step_id, "stepType": step_type})
    for journey_id, active_steps in steps.items():
        Journey.objects.filter(pk=journey_id).update(active_steps=active_steps)


class Migration(migrations.Migration):

    dependencies = [
        ("journeys", "0005_sync_state_moved"),
    ]

    operations = [
        migrations.CreateModel(
            name="WaitingStep",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("step_id", models.TextField()),
                ("step_type", models.TextField()),
                ("position", models.PositiveSmallIntegerField(default=0)),
                ("journey", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                              related_name="waiting_steps", to="journeys.journey")),
            ],
            options={
                "ordering": ("journey", "position"),
                "indexes": [models.Index(fields=["step_type", "journey"], name="waiting_step_type_journey")],
            },
        ),
        migrations.RunPython(json_to_rows, rows_to_json),
    ]
