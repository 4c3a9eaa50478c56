from django.urls import path

from secrets_admin.accounts.views import members, mfa

app_name = "accounts"

urlpatterns = [
    path("mfa/", mfa.mfa_index, name="mfa"),
    path("mfa/enroll/", mfa.enroll, name="mfa_enroll"),
    path("mfa/verify/", mfa.verify, name="mfa_verify"),
    path("mfa/remove/", mfa.remove_authenticator, name="mfa_remove"),
    path("mfa/recovery-codes/", mfa.recovery_regenerate, name="recovery_regenerate"),
    path("mfa/recovery-codes/download/", mfa.recovery_download, name="recovery_download"),
    path("members/", members.members_page, name="members"),
    path("members/unlock/", members.unlock, name="unlock"),
]
