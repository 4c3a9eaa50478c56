"""The panels read the summary beat keeps: the same figures as the pages, one row to read, and
recomputed when beat has not refreshed it for 15 minutes."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from secrets_admin.usage import panels, tasks
from secrets_admin.usage.models import Summary
from secrets_admin.usage.services import anomalies, ingest, summary

pytestmark = pytest.mark.django_db


def test_beat_stores_the_figures_and_the_panel_shows_them(
    secret, reads, settings, django_assert_max_num_queries
):
    settings.USAGE_STALE_DAYS = 90
    hot = secret("secret/hot")
    hour = ingest.hour_of(timezone.now()) - timedelta(hours=1)  # beat works on the real clock
    ingest.add_counts(Counter({(hour, hot.path, "laptop", "", "read"): 50}))  # no baseline: a spike
    secret("arn:old", backend="aws")  # never accessed, 200 days old: stale
    assert tasks.summarise() == {"stale": 1, "spikes": 1}
    row = Summary.objects.get(name=summary.NAME)
    assert row.figures["counts"] == {"hot": 1, "warm": 1} and row.figures["stale"] == {"hot": 1, "warm": 0}
    assert [s["reads"] for s in row.figures["spikes"]] == [s.reads for s in anomalies.spikes()]

    with django_assert_max_num_queries(1):
        html = panels.access_panel(None)
    assert "<strong>1</strong> secret not read in 90 days" in html and "secret/hot" in html
    assert [n for _, n in row.figures["daily"]] == [50]  # reads per day for the panel's chart
    assert 'data-table="usage-daily"' in html and 'data-value="50"' in html
    with django_assert_max_num_queries(1):
        assert "$0.40" in panels.cost_panel(None)


def test_a_summary_beat_left_behind_is_computed_again(secret):
    Summary.objects.create(name=summary.NAME, computed_at=timezone.now() - timedelta(hours=1), figures={})
    secret("arn:old", backend="aws")
    figures, at = summary.current()
    assert figures["stale_count"] == 1 and at > timezone.now() - timedelta(minutes=1)
    assert Summary.objects.get(name=summary.NAME).figures["stale_count"] == 1


def test_the_access_page_reads_the_stored_figures_and_computes_only_a_filtered_view(
    secret, reads, member, settings, django_assert_max_num_queries
):
    settings.USAGE_STALE_DAYS = 90
    client = member("frank", "managers")
    now = timezone.now()
    hour = ingest.hour_of(now) - timedelta(hours=1)
    hot = secret("secret/hot")
    ingest.add_counts(Counter({(hour, hot.path, "laptop", "", "read"): 50}))
    secret("arn:old", backend="aws")  # never accessed, 200 days old: stale
    summary.refresh(now=now)
    late = secret("secret/late")
    ingest.add_counts(Counter({(hour, late.path, "batch", "", "read"): 7}))  # after the beat

    with django_assert_max_num_queries(12):  # session, user, MFA, the row, the shown secrets
        page = client.get("/usage/").content.decode()
    assert "50 requests" in page and "secret/hot" in page and "arn:old" in page
    assert "secret/late" not in page and "batch" not in page  # not summarised yet
    assert "data-as-of" in page and "and these totals as of" in page

    filtered = client.get("/usage/", {"identity": "batch"}).content.decode()
    assert "7 requests" in filtered and "secret/late" in filtered  # computed for the filter
    assert "the filtered totals are current" in filtered

    tasks.summarise()  # the beat's next round
    assert "57 requests" in client.get("/usage/").content.decode()
