"""The query strings the dashboard's lists accept, checked: a bad value is a message that
says what to send instead (400), never a 500 or a silently different list."""

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.utils import timezone

MAX_DAYS = 366
OUTCOMES = {
    "ended": "ended (finished or failed)",
    "finished": "finished",
    "failed": "failed (including those left for a person)",
}


class RunRangeForm(forms.Form):
    """Runs that ended in the last `days` days, or between `start` and `end` (dates, UTC)."""

    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        error_messages={"invalid": "days must be a whole number of days, e.g. days=30."},
    )
    start = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "start must be a date written YYYY-MM-DD."},
    )
    end = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "end must be a date written YYYY-MM-DD."},
    )
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "any"), *OUTCOMES.items()],
        error_messages={"invalid_choice": f"outcome must be one of {', '.join(OUTCOMES)}."},
    )

    def clean(self):
        data = super().clean()
        start, end, days = data.get("start"), data.get("end"), data.get("days")
        if self.errors:
            return data
        if days and (start or end):
            raise forms.ValidationError("Give either days or a start and end date, not both.")
        if (start is None) != (end is None):
            raise forms.ValidationError("A date range needs both start and end (YYYY-MM-DD).")
        if start and end:
            if start > end:
                raise forms.ValidationError(f"start ({start}) is after end ({end}): swap them.")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"A range covers at most {MAX_DAYS} days.")
        return data

    def window(self, now=None) -> tuple[datetime, datetime]:
        """(from, to) as aware UTC datetimes; the last 30 days when nothing was given."""
        now = now or timezone.now()
        data = self.cleaned_data
        if data.get("start"):
            low = datetime.combine(data["start"], time.min, tzinfo=UTC)
            high = datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=UTC)
            return low, high
        return now - timedelta(days=data.get("days") or 30), now
