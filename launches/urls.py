from django.urls import path

from launches import views

app_name = "launches"

urlpatterns = [
    path("", views.launch_index, name="index"),
    path("new/<str:workflow_id>/", views.launch_new, name="new"),
    path("new/<str:workflow_id>/csv/", views.bulk_upload, name="bulk-upload"),
    path("<uuid:launch_id>/", views.launch_detail, name="detail"),
    path("bulk/<uuid:bulk_id>/", views.bulk_detail, name="bulk"),
    path("bulk/<uuid:bulk_id>/confirm/", views.bulk_confirm, name="bulk-confirm"),
    path("bulk/<uuid:bulk_id>/discard/", views.bulk_discard, name="bulk-discard"),
    path("bulk/<uuid:bulk_id>/results.csv", views.bulk_results, name="bulk-results"),
]
