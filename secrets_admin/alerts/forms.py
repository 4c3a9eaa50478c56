"""Forms for channel and routing edits; each carries the step-up `otp_code` field, verified by
the service (forms only shape the input). A channel's secret field never renders its value."""

import re

from django import forms

from secrets_admin.accounts.stepup import StepUpForm
from secrets_admin.alerts.events import Severity
from secrets_admin.alerts.transports import transport_class
from secrets_admin.roles import GROUPS

TEXT = {"class": "form-control"}
CHECK = {"class": "form-check-input"}


class ChannelForm(StepUpForm):
    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs=TEXT), help_text="Shown on pages and in the audit log."
    )

    def __init__(self, *args, kind: str, channel=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind, self.channel = kind, channel
        transport = transport_class(kind)
        fields = {"name": self.fields.pop("name")}
        if kind == "email":
            fields["addresses"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={**TEXT, "rows": 3}),
                help_text="One address per line (or separated by commas).",
            )
            fields["groups"] = forms.MultipleChoiceField(
                required=False,
                choices=[(g, g) for g in GROUPS],
                widget=forms.CheckboxSelectMultiple,
                help_text="Everyone in these console groups who has an email address.",
            )
        if transport.secret_label:
            keep = channel is not None and channel.encrypted_secret
            help_text = transport.secret_help + " Stored encrypted; never shown again after saving."
            if keep:
                help_text += f" Now set ({channel.secret_hint}); leave empty to keep it."
            fields["secret"] = forms.CharField(
                label=transport.secret_label,
                required=not keep,
                max_length=2000,
                widget=forms.PasswordInput(attrs={**TEXT, "autocomplete": "off"}, render_value=False),
                help_text=help_text,
            )
        if channel is not None:
            fields["enabled"] = forms.BooleanField(
                required=False,
                widget=forms.CheckboxInput(attrs=CHECK),
                help_text="Off: alerts skip this channel. A permanent error turns it off by itself.",
            )
        fields["otp_code"] = self.fields.pop("otp_code")
        self.fields = fields

    def config(self) -> dict:
        if self.kind != "email":
            return {}
        raw = self.cleaned_data.get("addresses", "")
        return {
            "addresses": [a for a in re.split(r"[\s,;]+", raw) if a],
            "groups": list(self.cleaned_data.get("groups") or []),
        }

    @staticmethod
    def initial_for(channel) -> dict:
        return {
            "name": channel.name,
            "addresses": "\n".join(channel.config.get("addresses", [])),
            "groups": channel.config.get("groups", []),
            "enabled": channel.enabled,
        }


def route_field(channel_id: int, severity: str) -> str:
    return f"route_{channel_id}_{severity}"


class RoutingForm(StepUpForm):
    """One checkbox per channel and severity: the whole routing table at once."""

    def __init__(self, *args, channels, current: set, **kwargs):
        super().__init__(*args, **kwargs)
        self.channels = list(channels)
        code = self.fields.pop("otp_code")
        for channel in self.channels:
            for severity in Severity.values:
                self.fields[route_field(channel.pk, severity)] = forms.BooleanField(
                    required=False,
                    initial=(channel.pk, severity) in current,
                    label=f"{channel.name}: {severity}",
                    widget=forms.CheckboxInput(attrs=CHECK),
                )
        self.fields["otp_code"] = code

    def rows(self):
        """[(channel, [bound field per severity])] for the table."""
        return [(c, [self[route_field(c.pk, s)] for s in Severity.values]) for c in self.channels]

    def routes(self) -> set:
        return {
            (channel.pk, severity)
            for channel in self.channels
            for severity in Severity.values
            if self.cleaned_data.get(route_field(channel.pk, severity))
        }
