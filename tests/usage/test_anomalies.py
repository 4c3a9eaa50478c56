"""The spike rule and the stale rule, each passing and failing on fixtures built for it."""

from datetime import timedelta

import pytest

from secrets_admin.usage.services import anomalies, ingest
from tests.usage.conftest import HOUR, NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rules(settings):
    settings.USAGE_SPIKE_WINDOW_HOURS = 24
    settings.USAGE_SPIKE_MIN_READS = 10
    settings.USAGE_SPIKE_SIGMAS = 3
    settings.USAGE_STALE_DAYS = 90


def week_of(path, per_hour, reads):
    """Baseline: `per_hour` reads in every hour of the 168 hours before the 24-hour window."""
    reads({(hours, path, "app"): per_hour for hours in range(24, 24 + 168)})


def test_a_burst_far_above_the_secrets_own_baseline_is_a_spike(secret, reads):
    busy, quiet = secret("secret/busy"), secret("secret/quiet")
    week_of(busy.path, 20, reads)  # mean 20, deviation 0, floored at √20: the bar is 20 + 3×4.47 = 33.4
    reads({(0, busy.path, "app"): 33})  # a busy hour, but within its usual noise
    week_of(quiet.path, 1, reads)
    reads({(3, quiet.path, "app"): 40})  # 40 against a mean of 1: a spike
    found = anomalies.spikes(now=NOW)
    assert [(s.path, s.hour, s.reads, s.mean, s.deviation) for s in found] == [
        (quiet.path, HOUR - timedelta(hours=3), 40, 1.0, 1.0)
    ]
    reads({(0, busy.path, "app"): 1})  # 34: above the bar
    assert {(s.path, s.reads) for s in anomalies.spikes(now=NOW)} == {(quiet.path, 40), (busy.path, 34)}


def test_a_spike_needs_more_than_three_deviations_and_the_minimum_reads(secret, reads):
    noisy = secret("secret/noisy")
    # baseline alternates 0 and 20 reads: mean 10, deviation 10 -> the bar is 10 + 3×10 = 40
    reads({(hours, noisy.path, "app"): 20 for hours in range(24, 24 + 168, 2)})
    reads({(1, noisy.path, "app"): 40})  # exactly at the bar: not above it
    assert anomalies.spikes(now=NOW) == []
    reads({(1, noisy.path, "app"): 1})  # 41: above
    assert [s.reads for s in anomalies.spikes(now=NOW)] == [41]
    assert anomalies.spikes(now=NOW)[0].deviation == 10.0

    new = secret("secret/new")  # no baseline: the minimum decides
    reads({(2, new.path, "app"): 9})
    assert new.path not in {s.path for s in anomalies.spikes(now=NOW)}
    reads({(2, new.path, "app"): 1})
    assert new.path in {s.path for s in anomalies.spikes(now=NOW)}


def test_hours_outside_the_window_and_other_operations_are_not_spikes(secret, reads):
    old = secret("secret/old-burst")
    reads({(30, old.path, "app"): 500})  # before the window: part of the baseline, not a spike
    reads({(0, old.path, "app"): 500}, operation="list")
    assert anomalies.spikes(now=NOW) == []


def _stale_paths():
    return {secret.path for secret, _ in anomalies.stale(now=NOW)}


def test_secrets_not_read_in_90_days_are_candidates_to_retire(secret, reads):
    read_lately = secret("secret/read-lately")
    read_long_ago = secret("secret/read-long-ago")
    never_read = secret("secret/never-read")
    young = secret("secret/young", created_days=10)  # too young to judge
    cert = secret("pki/cert/01", kind="certificate")  # certificates are not judged
    gone = secret("secret/gone", status="missing")
    aws_used = secret("arn:aws:sm:1", backend="aws", last_accessed=NOW - timedelta(days=5))
    aws_old = secret("arn:aws:sm:2", backend="aws", last_accessed=NOW - timedelta(days=120))
    aws_never = secret("arn:aws:sm:3", backend="aws")
    ingest.note_last_reads(
        {read_lately.path: NOW - timedelta(days=2), read_long_ago.path: NOW - timedelta(days=100)}
    )
    reads({(24 * 100, "sys/health", "probe"): 1})  # the rollup covers more than 90 days

    assert _stale_paths() == {read_long_ago.path, never_read.path, aws_old.path, aws_never.path}
    assert anomalies.stale_count(now=NOW) == 4
    assert anomalies.stale_by_backend(now=NOW) == {"vault": 2, "aws": 2}
    last = dict((s.path, at) for s, at in anomalies.stale(now=NOW))
    assert last[read_long_ago.path] == NOW - timedelta(days=100) and last[never_read.path] is None
    assert not {read_lately.path, young.path, cert.path, gone.path, aws_used.path} & _stale_paths()


def test_openbao_secrets_are_not_judged_before_the_rollup_covers_90_days(secret, reads):
    never_read = secret("secret/never-read")
    aws_never = secret("arn:aws:sm:9", backend="aws")
    reads({(24 * 10, "sys/health", "probe"): 1})  # watching for 10 days only
    assert _stale_paths() == {aws_never.path}
    assert never_read.path not in _stale_paths()
