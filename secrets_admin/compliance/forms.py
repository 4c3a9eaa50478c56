"""Forms of the compliance pages: the period of the pages and the evidence export's range."""

from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.utils import timezone

from secrets_admin.compliance import mapping

MAX_DAYS = 366


def _date_input():
    return forms.DateInput(attrs={"type": "date", "class": "form-control"})


class PeriodForm(forms.Form):
    """?days=N on the pages: the window of the event measures (break-glass, grants)."""

    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, required=False, label="Days")

    def clean_days(self):
        return self.cleaned_data["days"] or 90


class ExportForm(forms.Form):
    framework = forms.ChoiceField(widget=forms.Select(attrs={"class": "form-select"}))
    start = forms.DateField(label="From (UTC)", widget=_date_input())
    end = forms.DateField(label="To (UTC, inclusive)", widget=_date_input())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["framework"].choices = [(f.id, f.name) for f in mapping.frameworks().frameworks]
        today = timezone.now().date()
        self.fields["start"].initial = today - timedelta(days=89)
        self.fields["end"].initial = today

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        today = timezone.now().date()
        if end < start:
            self.add_error("end", "The end is before the start: pick an end on or after the start.")
        elif end > today:
            self.add_error("end", f"The end is in the future: pick {today:%Y-%m-%d} or earlier.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("start", f"At most {MAX_DAYS} days per export: split the range.")
        elif start < date(2000, 1, 1):
            self.add_error("start", "Pick a start in this century.")
        return data

    def bounds(self) -> tuple[datetime, datetime]:
        """[start midnight, the day after end midnight) in UTC."""
        start = datetime.combine(self.cleaned_data["start"], time.min, tzinfo=UTC)
        end = datetime.combine(self.cleaned_data["end"] + timedelta(days=1), time.min, tzinfo=UTC)
        return start, end
