from django.urls import path

from bulk import views

app_name = "bulk"

urlpatterns = [
    path("new", views.bulk_new, name="new"),
    path("<uuid:job_id>/", views.bulk_job, name="job"),
    path("<uuid:job_id>/confirm", views.bulk_confirm, name="confirm"),
    path("<uuid:job_id>/results.csv", views.bulk_results, name="results"),
]
