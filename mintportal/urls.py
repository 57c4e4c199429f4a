from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from journeys.views import dashboard
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
    # The dashboard reads the journey mirror, so it is the journeys app's view; it keeps the root path and its URL
    # name, "accounts:dashboard", beside sign-in (which leads to it), without accounts importing journeys.
    path("", include(([path("", dashboard, name="dashboard"), *accounts_urls.urlpatterns], "accounts"))),
    path("workflows/", include("workflows.urls")),
    path("privacy/", include("privacy.urls")),
    path("journeys/", include("journeys.urls")),
    path("views/", include("savedviews.urls")),
    path("launches/", include("launches.urls")),
    path("approvals/", include("approvals.urls")),
    path("bulk/", include("bulk.urls")),
    path("notifications/", include("notifications.urls")),
    path("compliance/", include("compliance.urls")),
    path("compliance/", include("compliance.casefile_urls")),
    path("operations/", include("operations.urls")),
    path("sso/", include("sso.urls")),
    path("audit/", include("accounts.audit_urls", namespace="audit")),
    path("webhooks/mint", mint_webhook, name="mint-webhook"),
]
