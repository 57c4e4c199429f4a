"""Mounted under /_sandbox/ by sandbox/urls.py."""

from django.urls import path

from sandbox.events import views

urlpatterns = [
    path("webhooks", views.webhooks, name="sandbox-webhooks"),
    path("deliveries", views.deliveries, name="sandbox-deliveries"),
]
