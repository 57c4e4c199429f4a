"""The mirror keeps each journey's business data (its input and step data) for the list's data filters.

``data`` is ``{"input": {...}, "steps": <the journey detail's stepData>}`` (journeys/datafilter.py); on PostgreSQL
it is JSONB (Django's JSONField) with a GIN index (``jsonb_path_ops``: containment ``@>`` and JSON-path ``@?``/``@@``
queries), so an equality filter reads the index instead of every row. The embedded SQLite default filters with
its JSON functions.

The sync reads the detail of journeys that changed since their detail was read; a partial index holds just
those rows (few, between syncs), so finding them does not scan the mirror. The list's "waiting at step" filter
finds waiting steps by their step id.
"""

from django.db import migrations, models

INDEX = "journey_data_gin"
STALE_INDEX = "journey_detail_stale"
STEP_INDEX = "waiting_step_step_journey"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # fastupdate off: with it on, every insert or update lands in the index's pending list, which each search
        # then reads in full until a vacuum merges it (at 100,000 rows, 13–30 ms per equality search instead of
        # 0.1 ms). The sync's writes pay a little more, once each.
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON journeys_journey USING gin (data jsonb_path_ops) "
            "WITH (fastupdate = off)"
        )
        # "Waiting at step S" (the list's step filter and the workflow graph's counts) finds its rows by step id.
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {STEP_INDEX} ON journeys_waitingstep (step_id, journey_id)"
        )
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {STALE_INDEX} ON journeys_journey (last_executed_at DESC NULLS LAST, id) "
            "WHERE detail_seen_at IS NULL OR detail_seen_at < last_executed_at"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {STEP_INDEX}")
        schema_editor.execute(f"DROP INDEX IF EXISTS {STALE_INDEX}")
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
