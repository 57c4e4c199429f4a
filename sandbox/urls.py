"""The sandbox's paths: Mint's API under /mint (DESIGN.md's table), the token endpoint, the end-user journey
page, the OpenID Connect provider under /oidc/ and the control API under /_sandbox/."""

from django.urls import URLPattern, URLResolver, include, path

from sandbox import openapi
from sandbox.core import control_views, pages, views
from sandbox.oidc import urls as oidc

mint = [
    path("workflows", views.workflows),
    path("workflows/<str:workflow_id>", views.workflow),
    path("workflows/<str:workflow_id>/journeys", views.workflow_journeys),
    path("workflows/<str:workflow_id>/versions", views.workflow_versions),
    path("workflows/<str:workflow_id>/versions/<str:version>/publish", views.workflow_version_publish),
    path("workflows/<str:workflow_id>/files", views.workflow_files),
    path("workflows/<str:workflow_id>/files/<str:file_id>", views.workflow_file),
    path("journeys", views.journeys),
    path("journeys/<str:journey_id>", views.journey),
    path("journeys/<str:journey_id>/resume", views.journey_resume),
    path("journeys/<str:journey_id>/approve", views.journey_approve),
    path("journeys/<str:journey_id>/url", views.journey_url),
    path("journeys/<str:journey_id>/log", views.journey_log),
    path("journeys/<str:journey_id>/notes", views.journey_notes),
    path("journeys/<str:journey_id>/notes/<str:note_id>", views.journey_note),
    path("journeys/<str:journey_id>/files/<str:file_id>", views.journey_file),
    path("step-types", views.step_types),
    path("secrets", views.secrets),
    path("secrets/<str:secret_id>", views.secret),
    path("openapi.json", openapi.openapi_json),
]

control: list[URLPattern | URLResolver] = [
    path("health", control_views.health),
    path("reset", control_views.reset),
    path("clients", control_views.clients),
    path("faults", control_views.faults),
    path("counters", control_views.counters),
    path("config", control_views.config),
    path("tokens/revoke", control_views.tokens_revoke),
    path("clock", control_views.clock_advance),
    path("outbox", control_views.outbox),
    path("journeys/<str:journey_id>/cancel", control_views.journey_cancel),
    path("oidc/", include(oidc.control)),
    path("", include("sandbox.events.urls")),
]

urlpatterns = [
    path("auth/open/connect/token", views.token),
    path("mint/", include(mint)),
    path("journey/<str:journey_id>", pages.journey_page),
    path("oidc/", include(oidc.provider)),
    path("_sandbox/", include(control)),
]

handler404 = "sandbox.core.views.not_found_handler"
handler500 = "sandbox.core.views.server_error_handler"
