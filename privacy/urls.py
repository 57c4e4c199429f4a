from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("workflows/<str:workflow_id>", views.workflow_personal_data, name="workflow"),
]
