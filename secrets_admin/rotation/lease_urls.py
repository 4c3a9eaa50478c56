from django.urls import path

from secrets_admin.rotation import lease_views

app_name = "leases"
urlpatterns = [path("", lease_views.lease_list, name="list")]
