from django.urls import path, re_path

from secrets_admin.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.entry_list, name="list"),
    path("<int:sequence>/", views.entry_detail, name="detail"),
    path("breaks/<int:checkpoint_id>/acknowledge/", views.acknowledge_break, name="acknowledge"),
    re_path(r"^export\.(?P<fmt>csv|json)$", views.export, name="export"),
]
