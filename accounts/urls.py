from django.urls import path

from accounts import views

app_name = "accounts"

# "accounts:dashboard" (the root page) is added by mintportal/urls.py: the dashboard is the journeys app's view.

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("preferences/theme", views.theme_set, name="theme"),
    path("preferences/times", views.time_display_set, name="time_display"),
    path("preferences/time-zone", views.time_zone_set, name="time_zone"),
]
