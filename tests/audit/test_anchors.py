"""Anchors in a real OpenBao: versioned, never overwritten, and when OpenBao is down the anchor is
retried, recorded as failed and shown as stale (page, /readyz, chain alert), never skipped."""

import hvac
import pytest

from console.stack.servers import OpenBao
from secrets_admin.audit import anchors, services, tasks
from secrets_admin.audit.models import AuditAnchor
from secrets_admin.audit.status import chain_status, summary
from secrets_admin.audit.verification import verify
from secrets_admin.backends import get_backend
from tests.audit.conftest import write


@pytest.fixture
def own_openbao(settings, tmp_path):
    """An OpenBao of this test's own, holding the anchors (stopping the session's would break
    other tests), bootstrapped like setup_vault does."""
    bao = OpenBao(tmp_path, token="anchor-root").start().wait_ready()
    settings.SECRET_BACKENDS = {
        **settings.SECRET_BACKENDS,
        "anchorbao": {**settings.SECRET_BACKENDS["vault"], "url": bao.url, "token": bao.token, "timeout": 1},
    }
    settings.AUDIT_ANCHOR = "anchorbao:audit-anchors/ledger"
    get_backend("anchorbao").bootstrap()
    started = [bao]
    yield started
    for server in started:
        server.stop()


@pytest.mark.django_db
def test_each_anchor_is_a_new_kv_version_and_the_console_token_cannot_delete_them(openbao, kv_prefix):
    write(2)
    verify()
    write(2, start=2)
    verify()
    mount, key = anchors.store()[1].split("/", 1)
    root = hvac.Client(url=openbao.url, token=openbao.token)
    metadata = root.secrets.kv.v2.read_secret_metadata(path=key, mount_point=mount)["data"]
    assert metadata["current_version"] == 2
    first = root.secrets.kv.v2.read_secret_version(
        path=key, mount_point=mount, version=1, raise_on_deleted_version=True
    )["data"]["data"]
    assert (first["sequence"], anchors.latest().sequence) == (2, 4)

    # The console's own policy (what its AppRole gets) writes and reads anchors, never deletes them.
    token = root.auth.token.create(policies=["candlefish-console"], ttl="5m")["auth"]["client_token"]
    console = hvac.Client(url=openbao.url, token=token)
    for attempt in (
        lambda: console.secrets.kv.v2.delete_metadata_and_all_versions(path=key, mount_point=mount),
        lambda: console.secrets.kv.v2.destroy_secret_versions(path=key, versions=[1], mount_point=mount),
        lambda: console.secrets.kv.v2.delete_latest_version_of_secret(path=key, mount_point=mount),
    ):
        with pytest.raises(hvac.exceptions.Forbidden):
            attempt()
    console.secrets.kv.v2.create_or_update_secret(
        path=key, secret={"sequence": 4, "hash": "x"}, mount_point=mount
    )
    assert (
        root.secrets.kv.v2.read_secret_metadata(path=key, mount_point=mount)["data"]["current_version"] == 3
    )


@pytest.mark.django_db
def test_openbao_down_when_an_anchor_is_due_is_retried_shown_stale_and_alerted(
    own_openbao, settings, monkeypatch
):
    seen, cleared = [], []
    monkeypatch.setattr(services, "raise_chain_alert", seen.append)
    monkeypatch.setattr(services, "clear_chain_alert", cleared.append)
    settings.AUDIT_ANCHOR_STALE_AFTER = 600  # not stale yet, however slow this machine is
    write(3)
    assert verify().extra["anchored"] is True
    bao = own_openbao[0]
    bao.stop()

    write(2, start=3)
    attempts = []
    real = anchors.get_backend

    def counting(name):
        attempts.append(name)
        return real(name)

    monkeypatch.setattr(anchors, "get_backend", counting)
    outcome = verify(anchor_tries=3)
    monkeypatch.setattr(anchors, "get_backend", real)
    assert outcome.ok and outcome.extra["anchored"] is False  # the chain is fine; the anchor is not written
    assert "not checked" in outcome.extra["anchor"]
    assert len(attempts) >= 3  # read once, then the write tried three times
    failed = AuditAnchor.objects.filter(ok=False).get()
    assert failed.sequence == 5 and "unreachable" in failed.error

    assert not anchors.check_stale().stale and seen == []  # not stale yet: the last anchor is recent
    settings.AUDIT_ANCHOR_STALE_AFTER = 0  # ... time passes
    state = anchors.check_stale()
    anchors.check_stale()
    assert state.stale and [o.kind for o in seen] == ["anchor_stale"]
    assert "has not been anchored" in seen[0].problem and "unreachable" in seen[0].problem
    assert summary()["anchor"].startswith("stale: #3")
    assert any("not been anchored outside the database" in line for line in chain_status().alarms)

    # OpenBao is back (a dev server starts empty: set it up again): the next run anchors the head.
    own_openbao.append(OpenBao(bao.data_dir, token="anchor-root", port=bao.port).start().wait_ready())
    get_backend("anchorbao").bootstrap()
    settings.AUDIT_ANCHOR_STALE_AFTER = 60
    assert tasks.anchor()["anchored"] is True
    assert (anchors.latest().sequence, chain_status().anchor.stale) == (5, False)
    tasks.anchor()
    assert cleared == ["anchor_stale"]  # the alarm is over, said once


@pytest.mark.django_db
def test_with_anchoring_off_the_page_and_the_checks_say_so(settings, client, make_user):
    from secrets_admin.audit.checks import check_anchor

    settings.AUDIT_ANCHOR = ""
    write(1)
    assert verify().extra["anchor"] == "anchoring is off"
    assert [e.id for e in check_anchor()] == ["audit.W004"]
    settings.AUDIT_ANCHOR = "nosuch:audit-anchors/x"
    assert [e.id for e in check_anchor()] == ["audit.E003"]
