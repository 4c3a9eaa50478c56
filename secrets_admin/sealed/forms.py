"""The two privileged Sealed Secrets actions: each is only a one-time code (the service verifies it)."""

from secrets_admin.accounts.stepup import StepUpForm


class CampaignForm(StepUpForm):
    pass


class BackupForm(StepUpForm):
    pass
