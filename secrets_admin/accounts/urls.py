from django.urls import path

from secrets_admin.accounts import views

app_name = "accounts"

urlpatterns = [
    path("mfa/", views.mfa_index, name="mfa"),
    path("mfa/enroll/", views.enroll, name="mfa_enroll"),
    path("mfa/verify/", views.verify, name="mfa_verify"),
    path("mfa/remove/", views.remove_authenticator, name="mfa_remove"),
    path("mfa/recovery-codes/", views.recovery_regenerate, name="recovery_regenerate"),
    path("mfa/recovery-codes/download/", views.recovery_download, name="recovery_download"),
    path("members/", views.members_page, name="members"),
]
