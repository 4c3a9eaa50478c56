from django.urls import path

from secrets_admin.rotation import views

app_name = "rotation"
urlpatterns = [
    path("", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("secrets/<int:pk>/rotate/", views.rotate_now, name="rotate"),
    path("secrets/<int:pk>/hook/", views.hook_edit, name="hook"),
    path("policies/<int:pk>/hook/", views.policy_hook, name="policy_hook"),
    path("policies/<int:pk>/hook/clear/", views.policy_hook_clear, name="policy_hook_clear"),
]
