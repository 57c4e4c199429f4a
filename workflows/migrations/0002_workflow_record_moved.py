"""``Workflow`` became ``accounts.WorkflowRecord`` (accounts 0007 took over its table): forget it here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0001_initial"),
        ("accounts", "0007_workflow_record"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Workflow")]),
    ]
