from django.urls import path

from secrets_admin.usage import views

app_name = "usage"
urlpatterns = [
    path("", views.access, name="access"),
    path("cost/", views.cost_view, name="cost"),
]
