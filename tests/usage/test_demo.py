"""The demo's read history: real reads through OpenBao that the audit reader counts, and older
history as rollup rows marked demo, with one spike and a few secrets left unread."""

import hvac
import pytest

from breakglass.services import recording
from secrets_admin.inventory.models import Secret
from secrets_admin.usage import demo
from secrets_admin.usage.models import HourlyAccess
from secrets_admin.usage.services import anomalies

pytestmark = pytest.mark.django_db


class Out:
    def __init__(self):
        self.lines = []

    def write(self, line):
        self.lines.append(line)


def test_the_demo_seeds_history_and_makes_real_reads(openbao, kv_prefix, settings):
    settings.USAGE_STALE_DAYS = 90
    root = hvac.Client(url=openbao.url, token=openbao.token)
    for index in range(8):
        key = f"{kv_prefix}/svc-{index}"
        root.secrets.kv.v2.create_or_update_secret(path=key, secret={"value": "v"}, mount_point="secret")
        Secret.objects.create(backend="vault", path=f"secret/{key}", name=key, owner_team="payments")
    out = Out()
    demo.seed_usage(out)
    assert "demo reads over 100 days" in out.lines[0] and "9 real reads" in out.lines[0]

    history = HourlyAccess.objects.filter(demo=True)
    assert (
        history.filter(identity="payments-api").exists()
        and not history.filter(path__endswith="svc-7").exists()
    )
    # The burst stands out against its own week. Its hour holds the 120 reads of an unknown laptop,
    # plus the service's usual reads when two hours ago was a working hour (weekdays 07-19 UTC).
    (spike,) = anomalies.spikes()
    that_hour = history.filter(secret_id=spike.secret_id, hour=spike.hour)
    assert that_hour.get(identity="unknown-laptop").count == 120
    assert spike.reads == sum(that_hour.values_list("count", flat=True))
    assert {s.path.rsplit("/", 1)[-1] for s, _ in anomalies.stale()} == {f"svc-{i}" for i in range(4, 8)}

    recording.read_audit_log(str(openbao.audit_log))
    real = HourlyAccess.objects.filter(demo=False, identity="token-payments-api", path__contains=kv_prefix)
    assert sum(real.values_list("count", flat=True)) == 9  # three secrets read three times
    demo.seed_usage(Out())  # again: nothing doubles
    assert HourlyAccess.objects.filter(demo=True).count() == history.count()
