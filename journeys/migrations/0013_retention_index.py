"""The index retention reads due journeys from (compliance/services/retention.py).

Retention asks for final journeys whose data is still held, by when they ended
(``COALESCE(finished_at, cancelled_at, faulted_at, last_executed_at)``), oldest first, in keyset batches. Only
rows still to be forgotten are in this partial index, so a run with nothing due reads a few index pages instead
of the whole table (a sequential scan of 100,000 rows without it), and it shrinks as retention works. It is an
expression index, which Django's model indexes cannot name portably together with this condition, so it is
created here with SQL both databases accept.
"""

from django.db import migrations

INDEX = "journey_retention_due"
SQL = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON journeys_journey "
    "(COALESCE(finished_at, cancelled_at, faulted_at, last_executed_at), id) "
    "WHERE data_removed_at IS NULL AND status IN ('cancelled', 'faulted', 'finished')"
)


def create(apps, schema_editor) -> None:
    schema_editor.execute(SQL)


def drop(apps, schema_editor) -> None:
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("journeys", "0012_data_removed_personal_values")]

    operations = [migrations.RunPython(create, drop)]
