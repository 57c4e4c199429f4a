from django.urls import path

from compliance import casefile_views

app_name = "casefiles"

urlpatterns = [
    path("journeys/<str:journey_id>/case-file.pdf", casefile_views.casefile_pdf, name="pdf"),
    path("case-files", casefile_views.casefile_batch, name="batch"),
    path("case-files/<uuid:casefile_job_id>", casefile_views.casefile_job, name="job"),
    path("case-files/<uuid:casefile_job_id>/download", casefile_views.casefile_download, name="download"),
]
