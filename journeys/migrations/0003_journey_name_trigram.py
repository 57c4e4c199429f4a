"""A trigram index for the journeys list's search on PostgreSQL (the embedded SQLite default scans instead).

The list searches ``name`` with ``icontains``, which Django compiles on PostgreSQL to
``UPPER("name"::text) LIKE UPPER('%term%')``; a GIN trigram index on exactly that expression turns the
search from a scan of every mirrored journey into an index lookup. pg_trgm is a trusted extension
(PostgreSQL 13+), so the database owner may create it.
"""

from django.db import migrations

INDEX = "journey_name_upper_trgm"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON journeys_journey USING gin (UPPER(name::text) gin_trgm_ops)"
    )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("journeys", "0002_sync_state_webhook_events")]

    operations = [migrations.RunPython(create, drop)]
