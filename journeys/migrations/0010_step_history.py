"""Step history: each journey's step visits from its execution log, and when that log was last read; indexes for
the workflow graph's step counts."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('journeys', '0009_journey_data'),
    ]

    operations = [
        migrations.CreateModel(
            name='StepHistoryRead',
            fields=[
                ('journey', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='history_read', serialize=False, to='journeys.journey')),
                ('executed_at', models.DateTimeField(blank=True, null=True)),
                ('status', models.CharField(max_length=16)),
                ('read_at', models.DateTimeField()),
            ],
        ),
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
        migrations.AddIndex(
            model_name='journey',
            index=models.Index(condition=models.Q(('gone_at__isnull', True)), fields=['workflow_id', 'id'], name='journey_wf_present'),
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
