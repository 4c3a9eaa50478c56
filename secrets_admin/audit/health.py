"""The ledger's part of /readyz: its state as detail (settings.READINESS_DETAILS), never a failed
probe. A broken chain, a stale anchor or a lagging sequencer does not make the console
"unready": the security team needs the console to investigate, and a load balancer pulling it
would hide the problem. The detail says what is wrong; the alarm itself is the chain alert."""


def ledger_detail() -> dict:
    from secrets_admin.audit.status import summary

    return summary()
