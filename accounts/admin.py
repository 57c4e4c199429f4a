"""The access admin: teams (groups) with their scopes, approval policies, users, and a read-only view of the
audit trail.

Who may use it follows the portal's own policy, not Django's model permissions: managing teams, scopes,
approval policies and users needs ``Action.MANAGE_ACCESS`` (superusers always may), reading the audit trail here needs
``Action.AUDIT`` over every workflow. Every save or delete records one audit event through
``accounts.services.access_change_record``, with the signed-in admin user as the actor.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from accounts.forms import ApprovalPolicyForm, ScopeForm
from accounts.models import Action, ApprovalPolicy, AuditEvent, Scope, SignInThrottle
from accounts.policy import user_can, workflow_access
from accounts.services import access_change_record
from accounts.signin import AdminSignInForm, signin_lockout_lift


def _may_manage_access(request: HttpRequest) -> bool:
    return user_can(user=request.user, action=Action.MANAGE_ACCESS)


def admin_user(request: HttpRequest) -> User:
    """The signed-in user acting in the admin, the actor of what they change (the admin lets nobody else in)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class AccessAdminMixin:
    """Gives the whole admin to users who may manage access, and nothing to anyone else."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_manage_access(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _may_manage_access(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _may_manage_access(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _may_manage_access(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _may_manage_access(request)


class AuditedAccessMixin(AccessAdminMixin, admin.ModelAdmin):
    """Records one audit event per saved form (with its inlines) and one per deleted object."""

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: list, change: bool) -> None:
        # The object and its inlines are saved by now; one event covers the whole submission.
        super().save_related(request, form, formsets, change)
        # django-stubs types the form as forms.Form; Django's admin passes this ModelForm itself (changeform_view).
        changes = self.construct_change_message(request, form, formsets, add=not change)  # type: ignore[arg-type]
        access_change_record(
            actor=admin_user(request), target=form.instance, verb="update" if change else "create", changes=changes,
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        access_change_record(actor=admin_user(request), target=obj, verb="delete")
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            access_change_record(actor=admin_user(request), target=obj, verb="delete")
        super().delete_queryset(request, queryset)


class ScopeInline(AccessAdminMixin, admin.StackedInline):
    """A team's scopes, edited on the team's page by whoever may manage access."""

    model = Scope
    form = ScopeForm
    extra = 0


admin.site.unregister(Group)


@admin.register(Group)
class TeamAdmin(AuditedAccessMixin, DjangoGroupAdmin):
    """A team and its scopes on one page; Django's model permissions only for superusers."""

    inlines = [ScopeInline]
    list_display = ["name", "scope_count", "member_count"]

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        # The portal decides access from scopes; Django permissions only matter to superusers' own admin use.
        return ("name", "permissions") if request.user.is_superuser else ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return super().get_queryset(request).prefetch_related("scopes", "user_set")

    @admin.display(description="Scopes")
    def scope_count(self, team: Group) -> int:
        return len(team.scopes.all())

    @admin.display(description="Members")
    def member_count(self, team: Group) -> int:
        return len(team.user_set.all())

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Deleting a team an approval policy names would drop it from the policy's approver teams, and a policy
        # left naming none lets every team approve: the policy has to be changed first, on purpose. (The bulk
        # delete asks this for each selected team and refuses the whole selection.)
        if isinstance(obj, Group) and obj.approval_policies.exists():
            return False
        return super().has_delete_permission(request, obj)



@admin.register(Scope)
class ScopeAdmin(AuditedAccessMixin, admin.ModelAdmin):
    form = ScopeForm
    list_display = ["team", "name", "all_workflows", "workflow_ids", "workflow_tags", "actions"]
    list_filter = ["team", "all_workflows"]
    search_fields = ["name", "team__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Scope]:
        return super().get_queryset(request).select_related("team")


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(AuditedAccessMixin, admin.ModelAdmin):
    """The four-eyes rules of workflows (by id, tag or all), managed and audited like teams and scopes."""

    form = ApprovalPolicyForm
    list_display = ["name", "match_label", "required_approvals", "forbid_self_approval", "sla_hours", "team_names"]
    list_filter = ["all_workflows", "forbid_self_approval", "required_approvals"]
    search_fields = ["name", "workflow_id", "workflow_tag", "approver_teams__name"]
    fieldsets = [
        ("Which workflows", {
            "fields": ["name", "all_workflows", "workflow_id", "workflow_tag"],
            "description": "Exactly one: every workflow, one workflow id, or one tag. When several policies "
                           "match a workflow, the strictest applies: the most approvals, self-approval "
                           "forbidden if any forbids it, the shortest SLA, and only the teams every policy "
                           "that names teams names.",
        }),
        ("Rules", {"fields": ["required_approvals", "forbid_self_approval", "sla_hours", "approver_teams"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApprovalPolicy]:
        return super().get_queryset(request).prefetch_related("approver_teams")

    @admin.display(description="Matches")
    def match_label(self, policy: ApprovalPolicy) -> str:
        return policy.match_label

    @admin.display(description="Approver teams")
    def team_names(self, policy: ApprovalPolicy) -> str:
        return ", ".join(sorted(team.name for team in policy.approver_teams.all())) or "any team that may approve"


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(AuditedAccessMixin, DjangoUserAdmin):
    """Users and their teams. Only a superuser may grant superuser status or touch another superuser."""

    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff", "team_names"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Teams")
    def team_names(self, user: User) -> str:
        return ", ".join(sorted(team.name for team in user.groups.all()))

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Without this, managing access would be a path to becoming a superuser.
            readonly += ["is_superuser", "user_permissions"]
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is not None and getattr(obj, "is_superuser", False) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is not None and getattr(obj, "is_superuser", False) and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        if not request.user.is_superuser:
            queryset = queryset.exclude(is_superuser=True)
        super().delete_queryset(request, queryset)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        # Success redirects to the user's change page; a refused or conflicting submission does not.
        succeeded = (
            request.method == "POST"
            and isinstance(response, HttpResponseRedirect)
            and response.url != request.get_full_path()
        )
        if succeeded:
            target = self.get_object(request, id)
            if target is not None:
                access_change_record(actor=admin_user(request), target=target, verb="password")
        return response


class ReadOnlyAdminMixin:
    """Rows nobody adds, edits or deletes through the admin (the audit trail, sign-in lockouts)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class AuditReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only, and only for people with the audit right over every workflow: the pages list rows of every
    workflow (audit events, and privacy's declarations and reveal grants, whose reasons are audit material)."""

    actions = None

    def _may_read(self, request: HttpRequest) -> bool:
        return workflow_access(user=request.user, action=Action.AUDIT).everything

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_read(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may_read(request)


@admin.register(AuditEvent)
class AuditEventAdmin(AuditReadOnlyAdmin):
    """The audit trail, read-only for everyone (superusers included): events are only ever inserted."""

    list_display = ["at", "actor_username", "action", "outcome", "workflow_id", "journey_id", "summary", "trace_id"]
    # Shown on an event's page so an auditor can match it against a head hash kept elsewhere.
    readonly_fields = ["prev_hash", "hash"]
    list_filter = ["outcome", "action"]
    search_fields = ["actor_username", "action", "workflow_id", "journey_id", "summary", "trace_id"]
    date_hierarchy = "at"


# The admin's sign-in page goes through the same throttle as the portal's and says so in the same words.
admin.site.login_form = AdminSignInForm


class LockedNowFilter(admin.SimpleListFilter):
    title = "locked now"
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SignInThrottle]) -> QuerySet[SignInThrottle]:
        if self.value() == "yes":
            return queryset.filter(locked_until__gt=timezone.now())
        if self.value() == "no":
            return queryset.exclude(locked_until__gt=timezone.now())
        return queryset


@admin.register(SignInThrottle)
class SignInLockoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Accounts and client addresses with recent failed sign-ins; whoever may manage access lifts lockouts.

    Rows are written only by the throttle (accounts/signin.py): nobody adds, edits or deletes them here.
    """

    list_display = ["kind", "key", "locked_until", "failures", "lockouts", "last_failure_at"]
    list_filter = [LockedNowFilter, "kind"]
    search_fields = ["key"]
    actions = ["lift"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_manage_access(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _may_manage_access(request)

    def has_lift_permission(self, request: HttpRequest) -> bool:
        return _may_manage_access(request)

    @admin.action(description="Lift the lockout of the selected accounts and addresses", permissions=["lift"])
    def lift(self, request: HttpRequest, queryset: QuerySet[SignInThrottle]) -> None:
        lifted = signin_lockout_lift(throttles=queryset, actor=admin_user(request))
        self.message_user(request, f"Lifted {lifted} lockout{'' if lifted == 1 else 's'}.")
