"""``SyncState`` moved here from the journeys app (journeys 0005 forgets it); its table stays journeys_syncstate."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0002_workflow_record_moved"),
        ("journeys", "0004_journey_name_text_status_created"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name="SyncState",
                fields=[
                    ("name", models.CharField(max_length=32, primary_key=True, serialize=False)),
                    ("watermark", models.DateTimeField(blank=True, null=True)),
                    ("lease_owner", models.CharField(blank=True, default="", max_length=64)),
                    ("lease_until", models.DateTimeField(blank=True, null=True)),
                    ("last_started_at", models.DateTimeField(blank=True, null=True)),
                    ("last_finished_at", models.DateTimeField(blank=True, null=True)),
                    ("last_full_at", models.DateTimeField(blank=True, null=True)),
                    ("last_result", models.JSONField(blank=True, default=dict)),
                    ("last_error", models.CharField(blank=True, default="", max_length=500)),
                ],
                options={"db_table": "journeys_syncstate"},
            ),
        ]),
    ]
