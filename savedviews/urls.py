from django.urls import URLPattern

app_name = "savedviews"

urlpatterns: list[URLPattern] = []
