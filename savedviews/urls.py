from django.urls import path

from savedviews import views

app_name = "savedviews"

urlpatterns = [
    path("", views.savedview_list, name="list"),
    path("new", views.savedview_new, name="create"),
    path("<int:view_id>/edit", views.savedview_edit, name="edit"),
    path("<int:view_id>/delete", views.savedview_remove, name="delete"),
    path("<int:view_id>/pin", views.savedview_pin_toggle, name="pin"),
]
