"""Step history: each journey's step visits from its execution log, what the journey was when that log was last
read (with a partial index of the journeys read since changed), and indexes for the workflow graph's step counts."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('journeys', '0009_journey_data'),
    ]

    operations = [
        migrations.CreateModel(
            name='StepVisit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('workflow_id', models.CharField(max_length=100)),
                ('step_id', models.TextField()),
                ('position', models.PositiveIntegerField()),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('faulted', models.BooleanField(default=False)),
                ('seconds', models.FloatField(blank=True, null=True)),
            ],
            options={
                'ordering': ('journey', 'position'),
            },
        ),
        migrations.AddField(
            model_name='journey',
            name='history_executed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='journey',
            name='history_status',
            field=models.CharField(blank=True, db_default='', default='', max_length=16),
        ),
        migrations.AddIndex(
            model_name='journey',
            index=models.Index(condition=models.Q(('gone_at__isnull', True)), fields=['workflow_id', 'id'], name='journey_wf_present'),
        ),
        migrations.AddIndex(
            model_name='journey',
            index=models.Index(fields=['-last_executed_at', 'id'], condition=models.Q(('gone_at__isnull', True), models.Q(('status', 'idle'), _negated=True), models.Q(models.Q(('history_status', models.F('status')), _negated=True), ('history_executed_at__lt', models.F('last_executed_at')), models.Q(('history_executed_at__isnull', True), ('last_executed_at__isnull', False)), _connector='OR')), name='journey_history_stale'),
        ),
        migrations.AddIndex(
            model_name='waitingstep',
            index=models.Index(fields=['journey', 'step_id'], name='waiting_step_journey_step'),
        ),
        migrations.AddField(
            model_name='stepvisit',
            name='journey',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='step_visits', to='journeys.journey'),
        ),
        migrations.AddIndex(
            model_name='stepvisit',
            index=models.Index(fields=['workflow_id', 'ended_at', 'step_id', 'seconds'], name='step_visit_wf_ended'),
        ),
        migrations.AddConstraint(
            model_name='stepvisit',
            constraint=models.UniqueConstraint(fields=('journey', 'position'), name='step_visit_journey_position'),
        ),
    ]
