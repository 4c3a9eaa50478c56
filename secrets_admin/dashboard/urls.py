from django.urls import path

from secrets_admin.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("runs/", views.runs, name="runs"),
    path("mfa/", views.mfa, name="mfa"),
]
