from allauth.account.forms import LoginForm
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from secrets_admin.accounts import lockout
from secrets_admin.accounts.members import ADD, REMOVE
from secrets_admin.accounts.stepup import CODE_LABEL, OneTimeCodeInput, StepUpForm
from secrets_admin.roles import GROUPS


class ConsoleLoginForm(LoginForm):
    """allauth's login form, labelled for people and password managers, that warns before the
    attempt that would lock the account out (for this client)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or email"
        login.widget.attrs = {"autocomplete": "username", "autofocus": True, "autocapitalize": "none"}
        self.fields["password"].help_text = ""  # the one "Forgot your password?" link follows the button
        self.fields["password"].widget.attrs.pop("placeholder", None)

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            credentials = self.user_credentials() if "login" in self.cleaned_data else {}
            if credentials and lockout.attempts_left(self.request, credentials) == 1:
                minutes = round(settings.AXES_COOLOFF_TIME * 60)
                self.last_attempt_warning = (
                    f"One more wrong password locks this login for {minutes} minutes. "
                    "Use “Forgot your password?” if you are not sure."
                )
            raise


class LoginCodeForm(forms.Form):
    """Second login step. Also takes a recovery code typed here (the recovery form is the
    friendlier way: a text keyboard)."""

    code = forms.CharField(label=CODE_LABEL, max_length=40, widget=OneTimeCodeInput({"autofocus": True}))


class RecoveryCodeForm(forms.Form):
    """A recovery code in place of the app's code (login, or removing a lost authenticator)."""

    code = forms.CharField(
        label="Recovery code",
        max_length=40,
        help_text="One of the codes you saved when you set up the app, like abcdef-ghjkmn-pqrstu.",
        widget=OneTimeCodeInput(
            {"autofocus": True, "autocomplete": "off", "inputmode": "text", "class": "form-control"}
        ),
    )


class EnrollForm(forms.Form):
    device_id = forms.IntegerField(widget=forms.HiddenInput)
    code = forms.CharField(
        label=CODE_LABEL,
        min_length=6,
        max_length=12,
        help_text="The 6-digit code your app shows now for Candlefish.",
        widget=OneTimeCodeInput(),
    )


class RegenerateRecoveryCodesForm(StepUpForm):
    pass


class RemoveAuthenticatorForm(forms.Form):
    code = forms.CharField(
        label=CODE_LABEL, max_length=40, help_text="The app's current code.", widget=OneTimeCodeInput()
    )


class RecoveryCodesDownloadForm(forms.Form):
    codes = forms.CharField(widget=forms.HiddenInput, max_length=400)

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


class UnlockForm(StepUpForm):
    """Lift a lockout: the account (one of those locked now) and a fresh code."""

    user = forms.ModelChoiceField(
        label="Locked account",
        queryset=get_user_model().objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, locked=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(
            pk__in=[lock.user.pk for lock in locked]
        )
