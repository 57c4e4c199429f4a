from django.contrib import admin
from django.urls import include, path

from journeys.webhooks import mint_webhook
from mintportal.health import healthz, readyz
from mintportal.metrics import metrics

# Unexpected errors, and a database outage met outside a view, without a traceback or a database query.
handler500 = "mintportal.health.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("workflows/", include("workflows.urls")),
    path("journeys/", include("journeys.urls")),
    path("launches/", include("launches.urls")),
    path("approvals/", include("approvals.urls")),
    path("operations/", include("operations.urls")),
    path("sso/", include("sso.urls")),
    path("audit/", include("accounts.audit_urls", namespace="audit")),
    path("webhooks/mint", mint_webhook, name="mint-webhook"),
]
