from django.urls import path

from journeys import claim_views, reveal_views, step_views, views

app_name = "journeys"

urlpatterns = [
    path("", views.journey_list, name="list"),
    path("export.csv", views.journey_export, name="export"),
    path("workflows/<str:workflow_id>/steps", step_views.workflow_steps, name="workflow_steps"),
    path("<str:journey_id>", views.journey_detail, name="detail"),
    path("<str:journey_id>/live", views.journey_poll, name="poll"),
    path("<str:journey_id>/resume", views.journey_resume_view, name="resume"),
    path("<str:journey_id>/claim", claim_views.journey_claim, name="claim"),
    path("<str:journey_id>/reveal", reveal_views.journey_reveal, name="reveal"),
    path("<str:journey_id>/url", views.journey_url_view, name="url"),
    path("<str:journey_id>/notes", views.journey_note_add, name="note_add"),
    path("<str:journey_id>/notes/<str:note_id>", views.journey_note_edit, name="note_edit"),
    path("<str:journey_id>/files/<str:file_id>", views.journey_file, name="file"),
]
