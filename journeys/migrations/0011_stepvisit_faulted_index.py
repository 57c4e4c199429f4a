"""Faulted at a step from the execution log: an index of the faulted step visits, and one of the stale journeys that
faulted (the step-history job reads their logs first)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('journeys', '0010_step_history'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='journey',
            index=models.Index(condition=models.Q(('gone_at__isnull', True), models.Q(('status', 'idle'), _negated=True), models.Q(models.Q(('history_status', models.F('status')), _negated=True), ('history_executed_at__lt', models.F('last_executed_at')), models.Q(('history_executed_at__isnull', True), ('last_executed_at__isnull', False)), _connector='OR'), ('status', 'faulted')), fields=['-last_executed_at', 'id'], name='journey_history_stale_faulted'),
        ),
        migrations.AddIndex(
            model_name='stepvisit',
            index=models.Index(condition=models.Q(('faulted', True)), fields=['journey', 'step_id'], name='step_visit_faulted'),
        ),
    ]
