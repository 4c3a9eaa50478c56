"""The weekly digest: mailed through the SMTP receiver to the managers only, with the headline
numbers and what changed since last week's snapshot; once per week; no values."""

import email
import email.policy
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from secrets_admin.audit.models import AuditEntry
from secrets_admin.compliance.models import WeeklySnapshot
from secrets_admin.compliance.services import digest
from tests.alerts.conftest import smtp  # noqa: F401 (the local SMTP receiver fixture)
from tests.compliance.conftest import break_glass, grant, person, secret
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # a Monday


def texts(receiver):
    found = []
    for envelope in receiver.messages:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = "\n".join(p.get_content() for p in message.walk() if p.get_content_maintype() == "text")
        found.append((message["subject"], sorted(envelope.rcpt_tos), body))
    return found


def test_the_digest_goes_to_managers_with_the_week_over_week_change(smtp):  # noqa: F811
    person("frank", "managers")
    person("grace", "managers", device=False)
    person("alice", "developers")
    carol, device = person("carol", "security-team")
    g = grant(break_glass(carol, []))
    type(g).objects.filter(pk=g.pk).update(sealed_token="SEALED-TOKEN-CANARY")
    for n in range(2):
        secret(f"secret/app/late-{n}", status="overdue")
    secret("secret/app/fine")
    WeeklySnapshot.objects.create(
        week=date(2026, 11, 23),
        taken_at=NOW - timedelta(days=7),
        numbers={"secrets": 1, "overdue": 5, "mfa_rate": 50.0},
    )
    snapshot = digest.send_weekly_digest(NOW)
    assert snapshot.week == date(2026, 11, 30) and snapshot.recipients == 2 and snapshot.sent_at
    assert snapshot.numbers["overdue"] == 2 and snapshot.numbers["secrets"] == 3
    ((subject, to, body),) = texts(smtp)
    assert subject.endswith("weekly digest for the week of 2026-11-30")
    assert to == ["frank@candlefish.example", "grace@candlefish.example"]
    assert "Overdue rotations: 2 (−3, better)" in body
    assert "Secrets in the inventory: 3 (+2)" in body
    assert "MFA coverage of privileged people (%): 100.0 (+50, better)" in body
    assert "compared with the week of 2026-11-23" in body and "/compliance/" in body
    assert "SEALED-TOKEN-CANARY" not in body
    actions = list(
        AuditEntry.objects.filter(action__startswith="compliance.digest").values_list("action", flat=True)
    )
    assert sorted(actions) == ["compliance.digest.recorded", "compliance.digest.sent"]
    # the same week again: nothing more
    assert digest.send_weekly_digest(NOW + timedelta(hours=3)) is None
    assert len(smtp.messages) == 1 and WeeklySnapshot.objects.count() == 2


def test_a_refused_mail_leaves_the_week_unsent_and_the_next_run_sends_it(smtp, settings):  # noqa: F811
    person("frank", "managers")
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 9  # nothing listens
    with pytest.raises(OSError):
        digest.send_weekly_digest(NOW)
    snapshot = WeeklySnapshot.objects.get()
    assert snapshot.sent_at is None and "no earlier week" not in str(snapshot.numbers)
    settings.EMAIL_PORT = good_port
    assert digest.send_weekly_digest(NOW).sent_at is not None
    ((_, _, body),) = texts(smtp)
    assert "no earlier week to compare with yet" in body


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_four_runs_at_once_send_one_mail(smtp):  # noqa: F811
    person("frank", "managers")
    barrier = threading.Barrier(4)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(digest.send_weekly_digest(NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(smtp.messages) == 1 and sum(o is not None for o in outcomes) == 1
    assert WeeklySnapshot.objects.get().recipients == 1
    assert AuditEntry.objects.filter(action="compliance.digest.sent").count() == 1
