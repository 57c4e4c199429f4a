from django.urls import path

app_name = "launches"

urlpatterns: list = []
