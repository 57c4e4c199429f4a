from django.urls import path

app_name = "journeys"

urlpatterns: list = []
