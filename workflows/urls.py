from django.urls import path

from workflows import views

app_name = "workflows"

urlpatterns = [
    path("", views.workflow_list, name="list"),
    path("new", views.workflow_create, name="create"),
    path("step-types", views.step_types, name="step_types"),
    path("secrets", views.secrets, name="secrets"),
    path("secrets/<str:secret_id>", views.secret_edit, name="secret_edit"),
    path("<str:workflow_id>", views.workflow_detail, name="detail"),
    path("<str:workflow_id>/edit", views.workflow_edit, name="edit"),
    path("<str:workflow_id>/diff", views.workflow_diff, name="diff"),
    path("<str:workflow_id>/versions/<int:version>/publish", views.workflow_publish, name="publish"),
    path("<str:workflow_id>/files/<str:file_id>", views.workflow_file, name="file"),
    path("<str:workflow_id>/versions/<int:version>/steps/<str:step_id>/form", views.step_form_edit, name="step_form"),
]
