from django.urls import path

from secrets_admin.compliance import views

app_name = "compliance"
urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("<slug:framework>/", views.framework, name="framework"),
    path("<slug:framework>/<slug:control>/", views.control, name="control"),
]
