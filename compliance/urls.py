from django.urls import path

from compliance import views

app_name = "compliance"

urlpatterns = [
    path("erasure", views.erasure, name="erasure"),
    path("erasure/confirm", views.erasure_confirm_view, name="erasure_confirm"),
    path("erasure/report.csv", views.erasure_report, name="erasure_report"),
]
