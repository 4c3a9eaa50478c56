"""Forms for the schedule's edits. They shape the input; the services check it (services/clean.py)
and verify the one-time code. Each refusal lands on the field it concerns."""

from django import forms

from secrets_admin.accounts.stepup import StepUpForm
from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.models.choices import Strategy
from secrets_admin.schedule.windows import DAY_CHOICES, zone_names

TEXT = {"class": "form-control"}
NUMBER = {"class": "form-control", "inputmode": "numeric"}
SELECT = {"class": "form-select"}


class WindowFieldsMixin(forms.Form):
    window_days = forms.MultipleChoiceField(
        label="Window days",
        choices=DAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="Days a rotation may start on. None ticked: no window, any time.",
    )
    window_start = forms.TimeField(
        label="Window opens at",
        required=False,
        widget=forms.TimeInput(attrs={**TEXT, "type": "time"}, format="%H:%M"),
    )
    window_end = forms.TimeField(
        label="Window closes at",
        required=False,
        widget=forms.TimeInput(attrs={**TEXT, "type": "time"}, format="%H:%M"),
        help_text="Earlier than the start: the window runs past midnight into the next day. "
        "The same as the start: the whole day.",
    )
    window_tz = forms.ChoiceField(
        label="Window time zone",
        initial="UTC",
        widget=forms.Select(attrs=SELECT),
        help_text="Wall-clock time in this zone, daylight saving included.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["window_tz"].choices = [(name, name) for name in zone_names()]


class PolicyForm(WindowFieldsMixin, StepUpForm):
    interval_days = forms.IntegerField(
        label="Interval (days)",
        required=False,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text="Due this many days after the last rotation. Empty: follow the expiry date.",
    )
    lead_days = forms.IntegerField(
        label="Lead before expiry (days)",
        widget=forms.NumberInput(attrs=NUMBER),
        help_text="Due this many days before a certificate or lease expires.",
    )
    strategy = forms.ChoiceField(
        label="Strategy", choices=Strategy.choices, widget=forms.Select(attrs=SELECT)
    )
    overlap_hours = forms.IntegerField(
        label="Overlap (hours)",
        widget=forms.NumberInput(attrs=NUMBER),
        help_text="Blue-green: how long the old and new values are both valid.",
    )
    grace_hours = forms.IntegerField(
        label="Grace period (hours)",
        widget=forms.NumberInput(attrs=NUMBER),
        help_text="How long a due secret may wait before a missed rotation turns critical.",
    )
    max_attempts = forms.IntegerField(
        label="Tries per run",
        widget=forms.NumberInput(attrs=NUMBER),
        help_text="After the last failed try the run needs a person and an alert fires.",
    )
    field_order = [
        "interval_days", "lead_days", "strategy", "overlap_hours", "grace_hours", "max_attempts",
        "window_days", "window_start", "window_end", "window_tz", "otp_code",
    ]  # fmt: skip


class OverrideForm(WindowFieldsMixin, StepUpForm):
    interval_days = forms.IntegerField(
        label="Interval (days)", required=False, widget=forms.NumberInput(attrs=NUMBER),
        help_text="Empty: the policy's.",
    )  # fmt: skip
    lead_days = forms.IntegerField(
        label="Lead before expiry (days)", required=False, widget=forms.NumberInput(attrs=NUMBER),
        help_text="Empty: the policy's.",
    )  # fmt: skip
    strategy = forms.ChoiceField(
        label="Strategy",
        required=False,
        choices=[("", "The policy's"), *Strategy.choices],
        widget=forms.Select(attrs=SELECT),
    )
    exempt_until = forms.DateTimeField(
        label="Exempt until",
        required=False,
        widget=forms.DateTimeInput(attrs={**TEXT, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="No scheduled rotation before this (UTC). At most a year ahead.",
    )
    exempt_reason = forms.CharField(
        label="Why it is exempt",
        required=False,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
        help_text="Required with an exemption; recorded in the audit log.",
    )
    field_order = [
        "interval_days", "lead_days", "strategy", "window_days", "window_start", "window_end",
        "window_tz", "exempt_until", "exempt_reason", "otp_code",
    ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["window_days"].help_text = "None ticked: the policy's window."


class CodeOnlyForm(StepUpForm):
    """Confirm a removal with a code."""


def find_secret(text: str) -> Secret:
    """A secret by its id, or by backend:path; ValidationError in words otherwise."""
    text = (text or "").strip()
    if text.isdigit():
        secret = Secret.objects.filter(pk=int(text)).first()
    elif ":" in text:
        backend, _, path = text.partition(":")
        secret = Secret.objects.filter(backend=backend, path=path).first()
    else:
        raise forms.ValidationError("Give the secret as backend:path (e.g. vault:secret/app/key) or its id.")
    if secret is None:
        raise forms.ValidationError(f"No secret {text} in the inventory.")
    return secret


class LinkForm(StepUpForm):
    first = forms.CharField(
        label="Secret", max_length=1100, widget=forms.TextInput(attrs=TEXT),
        help_text="backend:path as the inventory shows it (e.g. vault:secret/app/key), or its id.",
    )  # fmt: skip
    second = forms.CharField(
        label="Must not rotate together with", max_length=1100, widget=forms.TextInput(attrs=TEXT),
        help_text="The other secret, the same way.",
    )  # fmt: skip
    reason = forms.CharField(
        label="Why", max_length=300, widget=forms.TextInput(attrs=TEXT),
        help_text="For example: the API key and the service that calls with it.",
    )  # fmt: skip
    field_order = ["first", "second", "reason", "otp_code"]

    def clean_first(self):
        return find_secret(self.cleaned_data["first"])

    def clean_second(self):
        return find_secret(self.cleaned_data["second"])
