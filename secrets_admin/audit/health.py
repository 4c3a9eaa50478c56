"""The ledger's /readyz entry: the chain's state as detail, never a failed probe.

A broken chain, a stale anchor or a lagging sequencer does not make the console "unready": the
security team needs the console to investigate, and a load balancer pulling it would hide the
problem. The detail says what is wrong; the alarm itself is the chain alert.
"""

from django.db import connections


def probe_ledger() -> dict:
    from secrets_admin.audit.status import summary

    try:
        return summary()
    finally:
        connections.close_all()  # /readyz runs network probes on pool threads: close this one's connection
