"""The workflow catalog that access decisions read moves here from the workflows app, with its rows.

The table workflows 0001 created is adopted as it is (state only), then renamed to this app's name.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0006_user_preference"),
        ("workflows", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WorkflowRecord",
                    fields=[
                        ("id", models.CharField(max_length=100, primary_key=True, serialize=False)),
                        ("name", models.CharField(blank=True, default="", max_length=255)),
                        ("description", models.TextField(blank=True, default="")),
                        ("tags", models.JSONField(blank=True, default=list)),
                        ("version", models.IntegerField(default=0)),
                        ("seen_at", models.DateTimeField()),
                    ],
                    options={"db_table": "workflows_workflow"},
                ),
            ],
        ),
        migrations.AlterModelTable(name="WorkflowRecord", table=None),
    ]
