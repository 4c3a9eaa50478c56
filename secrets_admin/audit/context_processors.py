from django.utils.functional import SimpleLazyObject

from secrets_admin.roles import SECURITY_TEAM


def ledger_alarms(request):
    """`ledger_alarms`: lines the layout's banner shows the security team on every page (an
    open break of the audit chain, a stale anchor, a stuck sequencer); empty for everyone else.
    Lazy: the queries run only when a template shows the banner."""

    def alarms():
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.groups.filter(name=SECURITY_TEAM).exists():
            return []
        from secrets_admin.audit.status import chain_status

        return chain_status().alarms

    return {"ledger_alarms": SimpleLazyObject(alarms)}
