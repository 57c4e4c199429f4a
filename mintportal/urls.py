from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from journeys.webhooks import mint_webhook


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("workflows/", include("workflows.urls")),
    path("journeys/", include("journeys.urls")),
    path("launches/", include("launches.urls")),
    path("approvals/", include("approvals.urls")),
    path("sso/", include("sso.urls")),
    path("audit/", include("accounts.audit_urls", namespace="audit")),
    path("webhooks/mint", mint_webhook, name="mint-webhook"),
]
