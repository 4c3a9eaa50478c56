"""Forms for the sensitive inventory actions; each carries the step-up `otp_code` field and is
verified by the service (the form only shapes the input)."""

from django import forms
from django.conf import settings

from secrets_admin.accounts.stepup import StepUpForm
from secrets_admin.inventory.models.choices import Environment, Kind


def _backend_choices():
    return [(name, name) for name in settings.SECRET_BACKENDS]


TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}


class MetadataFields(forms.Form):
    owner_team = forms.CharField(label="Owner team", max_length=128, widget=forms.TextInput(attrs=TEXT))
    environment = forms.ChoiceField(choices=Environment.choices, widget=forms.Select(attrs=SELECT))
    purpose = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={**TEXT, "rows": 3}),
        help_text="What uses it and why. Written to the backend as metadata: never put a value here.",
    )


class MetadataForm(MetadataFields, StepUpForm):
    pass


class ImportForm(StepUpForm):
    backend = forms.ChoiceField(choices=_backend_choices, widget=forms.Select(attrs=SELECT))
    path = forms.CharField(
        max_length=1024,
        widget=forms.TextInput(attrs=TEXT),
        help_text=(
            "As the backend names it: secret/team/app-key (KV), pki/cert/<serial>, "
            "database/roles/<name>, or an AWS ARN."
        ),
    )


class CreateForm(MetadataFields, StepUpForm):
    backend = forms.ChoiceField(choices=_backend_choices, widget=forms.Select(attrs=SELECT))
    path = forms.CharField(
        max_length=512,
        widget=forms.TextInput(attrs=TEXT),
        help_text="KV: secret/team/app-key. AWS: the secret name, e.g. team/app-key.",
    )
    kind = forms.ChoiceField(
        choices=[(Kind.API_KEY, "API key"), (Kind.PASSWORD, "Password")],
        widget=forms.Select(attrs=SELECT),
        help_text="The backend stores a freshly generated value. Nobody sees it here, ever.",
    )

    field_order = ["backend", "path", "kind", "owner_team", "environment", "purpose", "otp_code"]
