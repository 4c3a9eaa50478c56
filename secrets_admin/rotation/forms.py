"""The "Rotate now" form: a reason is implied, the one-time code is what it asks."""

from secrets_admin.accounts.stepup import StepUpForm


class RotateNowForm(StepUpForm):
    """Only the step-up code: it is bound to the one secret the page is about."""
