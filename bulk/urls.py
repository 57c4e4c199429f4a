from django.urls import URLPattern

app_name = "bulk"

urlpatterns: list[URLPattern] = []
