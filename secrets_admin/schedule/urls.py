from django.urls import path

from secrets_admin.schedule import views

app_name = "schedule"
urlpatterns = [
    path("policies/", views.policy_list, name="policies"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("overrides/", views.override_list, name="overrides"),
    path("overrides/<int:pk>/", views.override_edit, name="override_edit"),
    path("overrides/<int:pk>/remove/", views.override_remove, name="override_remove"),
    path("links/", views.link_list, name="links"),
    path("links/new/", views.link_create, name="link_create"),
    path("links/<int:pk>/remove/", views.link_remove, name="link_remove"),
    path("calendar/", views.calendar_page, name="calendar"),
]
