from django.urls import path

from secrets_admin.rotation import views

app_name = "rotation"
urlpatterns = [
    path("", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("secrets/<int:pk>/rotate/", views.rotate_now, name="rotate"),
]
