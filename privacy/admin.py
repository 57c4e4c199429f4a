"""Personal-data declarations, retention rules and reveal grants in the Django admin, read-only.

They are written only through the portal's pages (``privacy.services``, each write audited), so the admin shows
them and changes nothing. Reading them takes the audit right over every workflow, as the audit trail does: a
reveal grant's reason is audit material.
"""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import AuditReadOnlyAdmin
from privacy.models import PersonalDataDeclaration, RetentionRule, RevealGrant


@admin.register(PersonalDataDeclaration)
class PersonalDataDeclarationAdmin(AuditReadOnlyAdmin):
    list_display = ["workflow_id", "version", "field_count", "updated_by", "updated_at"]
    search_fields = ["workflow_id"]
    date_hierarchy = "updated_at"

    @admin.display(description="Personal fields")
    def field_count(self, declaration: PersonalDataDeclaration) -> int:
        return len(declaration.fields) if isinstance(declaration.fields, list) else 0


@admin.register(RetentionRule)
class RetentionRuleAdmin(AuditReadOnlyAdmin):
    list_display = ["workflow_id", "days", "updated_by", "updated_at"]
    search_fields = ["workflow_id"]


@admin.register(RevealGrant)
class RevealGrantAdmin(AuditReadOnlyAdmin):
    list_display = ["user", "journey_id", "workflow_id", "granted_at", "expires_at"]
    list_filter = ["workflow_id"]
    search_fields = ["journey_id", "workflow_id", "user__username"]
    date_hierarchy = "granted_at"
