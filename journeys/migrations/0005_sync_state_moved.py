"""``SyncState`` became ``workflows.SyncState`` (workflows 0003 took over its table): forget it here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("journeys", "0004_journey_name_text_status_created"),
        ("workflows", "0003_sync_state_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="SyncState")]),
    ]
