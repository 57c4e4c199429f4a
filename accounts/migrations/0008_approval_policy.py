"""Approval policies belong to the workflow: the four-eyes rules move from team scopes to ``ApprovalPolicy``.

Forward, each scope that grants approve with rules stricter than the defaults (more than one approval, or an
SLA) becomes one policy per thing it covers: every workflow (``all_workflows``), each workflow id, each tag.
The policy keeps the scope's required approvals and SLA, always forbids self-approval (a scope that allowed
it never loosens a rule for the other teams that approve there; an admin may loosen the policy on purpose),
and names no approver teams, so every team that could approve there still may. Then the three fields leave
the scope. Backward, each approve scope gets the strictest rules of the policies that match anything it
covers, and the policies are dropped.
"""

import django.core.validators
from django.db import migrations, models

APPROVE = "approve"
DEFAULT_APPROVALS = 1


def _policy_name(scope, label: str) -> str:
    return f"{scope.team.name}: {scope.name} ({label})"[:100]


def scope_rules_to_policies(apps, schema_editor) -> None:
    scope_model = apps.get_model("accounts", "Scope")
    policy_model = apps.get_model("accounts", "ApprovalPolicy")
    for scope in scope_model.objects.select_related("team").order_by("pk"):
        if APPROVE not in (scope.actions or []):
            continue
        if scope.required_approvals <= DEFAULT_APPROVALS and not scope.sla_hours:
            continue
        rules = {"required_approvals": max(DEFAULT_APPROVALS, min(scope.required_approvals, 10)),
                 "sla_hours": scope.sla_hours or None, "forbid_self_approval": True}
        matches: list[tuple[str, dict]] = []
        if scope.all_workflows:
            matches.append(("all workflows", {"all_workflows": True}))
        else:
            matches += [(f"workflow {workflow_id}", {"workflow_id": str(workflow_id)[:100]})
                        for workflow_id in dict.fromkeys(scope.workflow_ids or [])]
            matches += [(f"tag {tag}", {"workflow_tag": str(tag)[:100]}) for tag in dict.fromkeys(scope.workflow_tags or [])]
        for label, match in matches:
            policy_model.objects.create(name=_policy_name(scope, label), **match, **rules)


def policies_to_scope_rules(apps, schema_editor) -> None:
    scope_model = apps.get_model("accounts", "Scope")
    policies = list(apps.get_model("accounts", "ApprovalPolicy").objects.all())
    for scope in scope_model.objects.all():
        if APPROVE not in (scope.actions or []):
            continue
        ids, tags = set(scope.workflow_ids or []), set(scope.workflow_tags or [])
        matching = [
            policy for policy in policies
            if scope.all_workflows or policy.all_workflows or policy.workflow_id in ids or policy.workflow_tag in tags
        ]
        if not matching:
            continue
        hours = [policy.sla_hours for policy in matching if policy.sla_hours]
        scope.required_approvals = max(policy.required_approvals for policy in matching)
        scope.forbid_self_approval = any(policy.forbid_self_approval for policy in matching)
        scope.sla_hours = min(hours) if hours else None
        scope.save(update_fields=["required_approvals", "forbid_self_approval", "sla_hours"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_workflow_record'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.CreateModel(
            name='ApprovalPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('all_workflows', models.BooleanField(default=False, help_text='Applies to every workflow, present and future.')),
                ('workflow_id', models.CharField(blank=True, default='', help_text='The one workflow it applies to.', max_length=100)),
                ('workflow_tag', models.CharField(blank=True, default='', help_text='Applies to every workflow with this tag.', max_length=100)),
                ('required_approvals', models.PositiveSmallIntegerField(default=1, help_text='Distinct approvers needed before Mint is told the journey is approved (1 to 10).', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10)])),
                ('forbid_self_approval', models.BooleanField(default=True, help_text='The person who launched a journey may not approve it.')),
                ('sla_hours', models.PositiveIntegerField(blank=True, help_text='Approvals and manual steps waiting longer than this are marked overdue in the inbox.', null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(8784)])),
                ('approver_teams', models.ManyToManyField(blank=True, help_text='Only these teams may approve (their scope must grant approve too); none: any team that may.', related_name='approval_policies', to='auth.group')),
            ],
            options={
                'verbose_name_plural': 'approval policies',
                'ordering': ['name'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('all_workflows', True), ('workflow_id', ''), ('workflow_tag', '')), models.Q(('all_workflows', False), ('workflow_tag', ''), models.Q(('workflow_id', ''), _negated=True)), models.Q(('all_workflows', False), ('workflow_id', ''), models.Q(('workflow_tag', ''), _negated=True)), _connector='OR'), name='approval_policy_one_match'), models.CheckConstraint(condition=models.Q(('required_approvals__gte', 1), ('required_approvals__lte', 10)), name='approval_policy_required_approvals_range')],
            },
        ),
        migrations.RunPython(scope_rules_to_policies, policies_to_scope_rules),
        migrations.RemoveField(
            model_name='scope',
            name='forbid_self_approval',
        ),
        migrations.RemoveField(
            model_name='scope',
            name='required_approvals',
        ),
        migrations.RemoveField(
            model_name='scope',
            name='sla_hours',
        ),
    ]
