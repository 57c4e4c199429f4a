"""Chains the audit events written before the hash chain existed, in id order."""

from django.db import migrations

from accounts.audit_chain import CHAINED_FIELDS, GENESIS, event_hash

BATCH = 2000


def chain_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    prev_hash = GENESIS
    last_id = 0
    # Keyset batches keep memory flat however long the trail is.
    while rows := list(AuditEvent.objects.filter(id__gt=last_id).order_by("id").values("id", *CHAINED_FIELDS)[:BATCH]):
        for row in rows:
            digest = event_hash(values=row, prev_hash=prev_hash)
            AuditEvent.objects.filter(pk=row["id"]).update(prev_hash=prev_hash, hash=digest)
            prev_hash = digest
        last_id = rows[-1]["id"]


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_audit_chain_fields"),
    ]

    operations = [
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
    ]
