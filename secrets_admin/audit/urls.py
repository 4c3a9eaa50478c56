from django.urls import path, re_path

from secrets_admin.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.entry_list, name="list"),
    path("<int:sequence>/", views.entry_detail, name="detail"),
    re_path(r"^export\.(?P<fmt>csv|json)$", views.export, name="export"),
]
