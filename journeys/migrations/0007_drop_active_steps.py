"""The waiting steps live in ``WaitingStep`` rows now (0006 copied them): drop the JSON column."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("journeys", "0006_waiting_steps"),
    ]

    operations = [
        migrations.RemoveField(model_name="journey", name="active_steps"),
    ]
