"""Request, approval, deny, reveal, end and review forms. Services do the real checks; the forms
only shape input (paths one per line, a duration in words)."""

from django import forms

from breakglass.models.request import Kind
from secrets_admin.accounts.stepup import StepUpForm
from secrets_admin.roles import CTO, SECURITY_TEAM


class RequestForm(forms.Form):
    kind = forms.ChoiceField(
        choices=Kind.choices,
        initial=Kind.STANDARD,
        widget=forms.RadioSelect,
        help_text="Break-glass is for emergencies: security-team and CTO approve, at most 8 h. "
        "Everyday access: security-team approves, at most 24 h.",
    )
    scope = forms.CharField(
        label="Secrets or paths",
        widget=forms.Textarea(
            attrs={"rows": 3, "class": "form-control font-monospace", "spellcheck": "false"}
        ),
        help_text="One inventory path per line, for example secret/payments/stripe-api-key.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text="A real sentence: what is broken and what you will do.",
    )
    ticket = forms.CharField(
        required=False, max_length=200, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    duration = forms.CharField(
        initial="4h",
        max_length=20,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text="Like 4h, 90m or 1h30m.",
    )
    groups = forms.CharField(
        label="Approver groups",
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=f"Comma-separated; empty means the default ({SECURITY_TEAM} and {CTO} for break-glass, "
        f"{SECURITY_TEAM} for everyday access). Add an owner team to need its approval too.",
    )
    record_session = forms.BooleanField(
        required=False, initial=True, label="Record the session (every request the token makes)"
    )

    def clean_scope(self):
        return [line.strip() for line in self.cleaned_data["scope"].splitlines() if line.strip()]

    def clean_groups(self):
        return [g.strip() for g in self.cleaned_data["groups"].split(",") if g.strip()]


class ApproveForm(StepUpForm):
    seen_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DenyForm(forms.Form):
    note = forms.CharField(
        required=False,
        label="Why (sent to the requester)",
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class CodeForm(StepUpForm):
    pass


class EndForm(StepUpForm):
    reason = forms.CharField(
        required=False, max_length=200, widget=forms.TextInput(attrs={"class": "form-control"})
    )


class ReviewNotesForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "class": "form-control"}))
