"""Rotation forms: "Rotate now" (only the one-time code), a secret's or policy's rotation hook."""

from django import forms

from secrets_admin.accounts.stepup import StepUpForm


class RotateNowForm(StepUpForm):
    """Only the step-up code: it is bound to the one secret the page is about."""


class ClearHookForm(StepUpForm):
    """Only the step-up code: it is bound to clearing this one hook."""


class HookForm(StepUpForm):
    """A secret's or a policy's rotation hook. Neither field is ever shown again once saved
    (both encrypted)."""

    url = forms.URLField(
        label="Hook URL", assume_scheme="https", max_length=2000,
        help_text="The provider's endpoint; it receives signed requests for set, test and retire.",
    )  # fmt: skip
    key = forms.CharField(
        label="Signing key", min_length=16, max_length=200, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Shared with the provider; requests carry an HMAC-SHA256 of their body with it.",
    )  # fmt: skip
