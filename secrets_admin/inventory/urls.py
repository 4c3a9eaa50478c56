from django.urls import path

from secrets_admin.inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.secret_list, name="list"),
    path("<int:pk>/", views.secret_detail, name="detail"),
    path("<int:pk>/edit/", views.secret_edit, name="edit"),
    path("register/", views.secret_register, name="register"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/start/", views.sync_now, name="sync"),
]
