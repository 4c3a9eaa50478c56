"""Break-glass analytics against a hand-computed fixture: requests per team, time to approve
(median and p90, nearest rank), rubber stamps, overdue reviews; the page and its panel."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from breakglass import analytics
from breakglass.models import AccessRequest, Approval, Grant, IncidentReview
from secrets_admin.usage.services.filters import date_range

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SPAN = date_range({"from": "2026-11-01", "to": "2026-11-30"}, default_days=30)


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.BREAKGLASS_RUBBER_STAMP_SECONDS = 60
    settings.BREAKGLASS_REVIEW_DAYS = 3


def asked(requester, *, day, wait_seconds=None, edited_after=None, approvers=()):
    """A request asked on `day` of November at 09:00, approved `wait_seconds` after it (or after
    its edit), each approver's approval `seconds` after the request (or its edit)."""
    created = START + timedelta(days=day - 1)
    edited = created + timedelta(seconds=edited_after) if edited_after is not None else None
    since = edited or created
    access = AccessRequest.objects.create(
        kind="break_glass", requester=requester, requester_name=requester.username, reason="A real reason.",
        scope=[], duration_seconds=3600, groups=["security-team", "cto"], request_hash="0" * 64,
        created_at=created, edited_at=edited, pending_until=created + timedelta(hours=1),
        approved_at=since + timedelta(seconds=wait_seconds) if wait_seconds is not None else None,
        status="ended" if wait_seconds is not None else "pending",
    )  # fmt: skip
    for approver, group, seconds in approvers:
        approval = Approval.objects.create(
            request=access,
            group=group,
            approver=approver,
            approver_name=approver.username,
            request_hash="0" * 64,
        )
        Approval.objects.filter(pk=approval.pk).update(created_at=since + timedelta(seconds=seconds))
    return access


@pytest.fixture
def history(alice, carol, erin, actor):
    """alice (developers) asks 4 times, bob (developers and security-team) twice, carol once;
    approved waits 30 s, 120 s, 600 s, 3600 s and 7200 s; 3 approvals within 60 s."""
    bob = actor("bob", "developers", "security-team").user
    a, c, e = alice.user, carol.user, erin.user
    asked(a, day=2, wait_seconds=30, approvers=[(c, "security-team", 10), (e, "cto", 30)])  # 2 stamps
    asked(a, day=3, wait_seconds=120, edited_after=500, approvers=[(c, "security-team", 59)])  # a stamp
    asked(a, day=4, wait_seconds=600, approvers=[(c, "security-team", 61)])  # just past the threshold
    asked(a, day=5)  # never approved
    asked(bob, day=6, wait_seconds=3600, approvers=[(e, "cto", 3600)])
    asked(bob, day=7, wait_seconds=7200)
    asked(c, day=8)
    asked(a, day=1 - 40)  # October: outside the range


def test_the_figures_match_the_hand_count(history):
    found = analytics.analytics(SPAN)
    # bob counts under both his groups; 7 requests in November
    assert found.per_team == [("developers", 6), ("security-team", 3)]
    assert found.approved == 5
    # sorted waits: 30, 120, 600, 3600, 7200 -> median rank ceil(2.5)=3, p90 rank ceil(4.5)=5
    assert found.median == timedelta(seconds=600) and found.median_words == "10 min 0 s"
    assert found.p90 == timedelta(seconds=7200) and found.p90_words == "2 h 0 min"
    assert found.rubber_stamps == 3


def test_the_rubber_stamp_threshold_is_configurable(history, settings):
    settings.BREAKGLASS_RUBBER_STAMP_SECONDS = 61
    assert analytics.analytics(SPAN).rubber_stamps == 4
    settings.BREAKGLASS_RUBBER_STAMP_SECONDS = 10
    assert analytics.analytics(SPAN).rubber_stamps == 1


def test_nothing_approved_has_no_median():
    found = analytics.analytics(SPAN)
    assert (found.approved, found.median, found.median_words, found.per_team) == (0, None, "—", [])


def test_reviews_unsigned_past_their_days_are_overdue(alice):
    def review(opened_days_ago, signed=False):
        access = asked(alice.user, day=1, wait_seconds=5)
        grant = Grant.objects.create(
            request=access, backend="vault", state="ended", policy_name="p", expires_at=timezone.now()
        )
        found = IncidentReview.objects.create(grant=grant, signed_off_at=timezone.now() if signed else None)
        IncidentReview.objects.filter(pk=found.pk).update(
            opened_at=timezone.now() - timedelta(days=opened_days_ago)
        )
        return found

    late, _, _ = review(4), review(2), review(10, signed=True)
    found = analytics.analytics(SPAN)
    assert found.overdue_count == 1 and [r.pk for r in found.overdue] == [late.pk]


def test_the_page_and_panel_are_for_security_cto_and_managers(history, frank, alice):
    page = frank.client().get("/access/analytics/", {"from": "2026-11-01", "to": "2026-11-30"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "10 min 0 s" in text and "2 h 0 min" in text
    bad = frank.client().get("/access/analytics/", {"from": "2026-11-30", "to": "2026-11-01"})
    assert bad.status_code == 400 and "is after" in bad.content.decode()
    home = frank.client().get("/").content.decode()
    assert 'id="panel-breakglass-analytics"' in home
    assert 'data-table="breakglass-teams"' in text and '<th scope="row">developers</th>' in text
    assert 'id="panel-breakglass-analytics"' not in alice.client().get("/").content.decode()
    assert alice.client().get("/access/analytics/").status_code == 403
