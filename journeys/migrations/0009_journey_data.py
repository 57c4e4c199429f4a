"""The mirror keeps each journey's business data (its input and step data) for the list's data filters.

``data`` is the journey detail's ``stepData`` as Mint returns it; on PostgreSQL it is JSONB (Django's JSONField)
with a GIN index (``jsonb_path_ops``: containment ``@>`` and JSON-path ``@?``/``@@`` queries), so an equality
filter reads the index instead of every row. The embedded SQLite default filters with its JSON functions.
"""

from django.db import migrations, models

INDEX = "journey_data_gin"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON journeys_journey USING gin (data jsonb_path_ops)"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("journeys", "0008_claim")]

    operations = [
        migrations.AddField(
            model_name="journey",
            name="data",
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
        migrations.RunPython(create, drop),
    ]
