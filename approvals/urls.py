from django.urls import path

from approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<str:journey_id>/decide", views.decide, name="decide"),
]
