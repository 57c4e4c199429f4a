"""The single sign-on admin: claim values mapped to teams (audited), and a read-only list of SSO identities.

Like the access admin in accounts/admin.py, it is open to users who may manage access, and to nobody else.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.admin import AccessAdminMixin, admin_user
from sso.models import ClaimMapping, SsoIdentity
from sso.services import claim_mapping_change_record


@admin.register(ClaimMapping)
class ClaimMappingAdmin(AccessAdminMixin, admin.ModelAdmin):
    """Which group or role names at the provider grant which team; every save and delete is audited."""

    list_display = ["claim_value", "team"]
    list_filter = ["team"]
    search_fields = ["claim_value", "team__name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClaimMapping]:
        return super().get_queryset(request).select_related("team")

    def save_model(self, request: HttpRequest, obj: ClaimMapping, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        claim_mapping_change_record(actor=admin_user(request), mapping=obj, verb="update" if change else "create")

    def delete_model(self, request: HttpRequest, obj: ClaimMapping) -> None:
        claim_mapping_change_record(actor=admin_user(request), mapping=obj, verb="delete")
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ClaimMapping]) -> None:
        for mapping in queryset.select_related("team"):
            claim_mapping_change_record(actor=admin_user(request), mapping=mapping, verb="delete")
        super().delete_queryset(request, queryset)


@admin.register(SsoIdentity)
class SsoIdentityAdmin(AccessAdminMixin, admin.ModelAdmin):
    """Who signs in through the provider as whom; made by sign-in only, so nobody edits it here."""

    list_display = ["user", "subject", "issuer", "created_at", "last_sign_in_at"]
    search_fields = ["user__username", "subject"]
    readonly_fields = ["user", "issuer", "subject", "created_at", "last_sign_in_at"]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
