from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from secrets_admin.accounts.members import ADD, REMOVE
from secrets_admin.accounts.stepup import StepUpForm
from secrets_admin.roles import GROUPS

_CODE_ATTRS = {"autocomplete": "one-time-code", "class": "form-control", "autofocus": True}


class LoginCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=20,
        widget=forms.TextInput(attrs=_CODE_ATTRS),
    )


class EnrollForm(forms.Form):
    device_id = forms.IntegerField(widget=forms.HiddenInput)
    code = forms.CharField(
        label="6-digit code shown by your app",
        min_length=6,
        max_length=12,
        widget=forms.TextInput(attrs={**_CODE_ATTRS, "inputmode": "numeric"}),
    )


class RegenerateRecoveryCodesForm(StepUpForm):
    pass


class RemoveAuthenticatorForm(forms.Form):
    code = forms.CharField(
        label="Current code from the app, or a recovery code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "class": "form-control"}),
    )


class RecoveryCodesDownloadForm(forms.Form):
    codes = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def clean_codes(self):
        codes = [c for c in self.cleaned_data["codes"].split() if c]
        if not codes:
            raise forms.ValidationError("No recovery codes to download.")
        return codes


class MembershipForm(StepUpForm):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    group = forms.ModelChoiceField(
        queryset=Group.objects.filter(name__in=GROUPS).order_by("name"),
        to_field_name="name",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    change = forms.ChoiceField(
        choices=[(ADD, "Add to group"), (REMOVE, "Remove from group")],
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    field_order = ["user", "group", "change", "otp_code"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean_user(self):
        user = self.cleaned_data["user"]
        if self.actor is not None and user.pk == self.actor.pk:
            raise forms.ValidationError(
                "You cannot change your own groups; ask another security-team member."
            )
        return user
