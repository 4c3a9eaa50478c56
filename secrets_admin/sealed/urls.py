from django.urls import path

from secrets_admin.sealed import views

app_name = "sealed"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("campaign/", views.start_campaign, name="campaign"),
    path("keys/<int:pk>/backed-up/", views.confirm_backup, name="backup"),
]
