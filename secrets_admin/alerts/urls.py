from django.urls import path

from secrets_admin.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.alert_detail, name="alert"),
    path("routing/", views.routing, name="routing"),
    path("channels/new/<str:kind>/", views.channel_create, name="channel_create"),
    path("channels/<int:pk>/", views.channel_detail, name="channel"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/test/", views.channel_test, name="channel_test"),
]
