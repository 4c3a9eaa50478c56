"""The headline numbers behind the dashboard's tiles, as plain data (no HTML): the tiles render
them, the live layer re-renders them, the weekly digest mails them.

Every figure is one aggregate query (or a cached value): no loop over secrets, runs or audit
entries, and no call to a backend (backend state comes from the readiness cache)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from secrets_admin.inventory.models import Secret
from secrets_admin.inventory.models.choices import Status
from secrets_admin.roles import CTO, SECURITY_TEAM

SUCCESS_WINDOWS = (7, 30, 90)  # days
SUCCESS_TARGET = 99.9  # percent of ended runs that finished
PRIVILEGED_GROUPS = (SECURITY_TEAM, CTO)  # and superusers


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 2)


def secrets_by_backend_and_environment() -> dict:
    """{"total", "cells": [{"backend", "environment", "count"}], "backends": {name: n},
    "environments": {env: n}}: one GROUP BY over the (backend, environment) index."""
    rows = Secret.objects.order_by().values("backend", "environment").annotate(count=Count("id"))
    cells = sorted(
        ({"backend": r["backend"], "environment": r["environment"], "count": r["count"]} for r in rows),
        key=lambda c: (c["backend"], c["environment"]),
    )
    backends, environments = {}, {}
    for cell in cells:  # at most backends × environments rows, never one per secret
        backends[cell["backend"]] = backends.get(cell["backend"], 0) + cell["count"]
        environments[cell["environment"]] = environments.get(cell["environment"], 0) + cell["count"]
    return {
        "total": sum(backends.values()),
        "cells": cells,
        "backends": backends,
        "environments": environments,
    }


def rotations_due() -> dict:
    """Overdue and due-soon secrets, from the stored status (kept by the status refresh beat)."""
    wanted = (Status.OVERDUE, Status.DUE_SOON)
    rows = Secret.objects.order_by().filter(status__in=wanted).values("status").annotate(n=Count("id"))
    found = {r["status"]: r["n"] for r in rows}
    return {"overdue": found.get(Status.OVERDUE, 0), "due_soon": found.get(Status.DUE_SOON, 0)}


def success_rates(now) -> dict:
    """Of the runs that ended (finished, failed or left for a person) in the last 7, 30 and 90
    days, the share that finished, against SUCCESS_TARGET. Cancelled runs are not counted: a
    person stopped them, the rotation did not fail. One query over (finished_at, state)."""
    from secrets_admin.rotation.models import RotationRun

    state = RotationRun.State
    ended = (state.FINISHED, state.FAILED, state.NEEDS_PERSON)
    aggregates = {}
    for days in SUCCESS_WINDOWS:
        since = Q(finished_at__gte=now - timedelta(days=days))
        aggregates[f"ok_{days}"] = Count("id", filter=since & Q(state=state.FINISHED))
        aggregates[f"ended_{days}"] = Count("id", filter=since)
    since = now - timedelta(days=max(SUCCESS_WINDOWS))
    counts = RotationRun.objects.filter(
        finished_at__gte=since, finished_at__lte=now, state__in=ended
    ).aggregate(**aggregates)
    windows = []
    for days in SUCCESS_WINDOWS:
        ok, total = counts[f"ok_{days}"], counts[f"ended_{days}"]
        rate = _percent(ok, total)
        windows.append(
            {
                "days": days,
                "finished": ok,
                "failed": total - ok,
                "ended": total,
                "rate": rate,
                "meets_target": rate is not None and rate >= SUCCESS_TARGET,
            }
        )
    return {"target": SUCCESS_TARGET, "windows": windows}


def access(now) -> dict:
    """Break-glass and everyday grants active now, and requests waiting for approval."""
    from breakglass.models import AccessRequest, Grant
    from breakglass.models.grant import GrantState
    from breakglass.models.request import Status as RequestStatus

    active = Grant.objects.filter(state=GrantState.ACTIVE, expires_at__gt=now).count()
    pending = AccessRequest.objects.filter(status=RequestStatus.PENDING).count()
    return {"active_grants": active, "pending_approvals": pending}


def privileged_people():
    """Active members of the security team or the CTO group, and active superusers."""
    User = get_user_model()
    memberships = User.groups.through.objects.filter(group__name__in=PRIVILEGED_GROUPS).values("user_id")
    return User.objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(pk__in=memberships))


def mfa_coverage() -> dict:
    """Privileged people (active members of the security team or the CTO group, and active
    superusers) and how many of them have a confirmed authenticator. One query."""
    from secrets_admin.accounts.models import AuthenticatorDevice

    device = AuthenticatorDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
    counts = privileged_people().aggregate(total=Count("pk"), covered=Count("pk", filter=Exists(device)))
    total, covered = counts["total"], counts["covered"]
    return {
        "privileged": total,
        "covered": covered,
        "missing": total - covered,
        "rate": _percent(covered, total),
    }


def audit_chain(now) -> dict:
    """The ledger's state as recorded by its verifications and anchors (no verification runs
    here: that is the beat's work, and a page load must not read the whole chain)."""
    from secrets_admin.audit.status import chain_status

    state = chain_status()
    verified = state.verified
    anchor = state.anchor
    if not anchor.configured:
        anchor_state = "off"
    elif anchor.last is None:
        anchor_state = "never"
    else:
        anchor_state = "stale" if anchor.stale else "fresh"
    return {
        "state": state.state,  # intact, broken or unverified
        "head": state.head or 0,
        "verified_to": verified[0] if verified else None,
        "verified_at": verified[1].isoformat() if verified else None,
        "open_breaks": len(state.open_breaks),
        "unlinked": state.lag.pending,
        "anchor": anchor_state,  # fresh, stale, never or off
        "anchor_sequence": anchor.last.sequence if anchor.last else None,
        "anchor_age_seconds": round(anchor.age_seconds) if anchor.age_seconds is not None else None,
    }


def backends() -> dict:
    """Up, sealed or down, from the readiness probes' cached result (console.health): the
    dashboard never calls a backend. `checked` is False before the first probe round."""
    from console.health import cached_readiness

    return backend_states(cached_readiness())


def backend_states(results: dict | None) -> dict:
    """Readiness results ({name: {"ok", "error"?}}) as up / sealed / down counts."""
    states = {}
    for name, result in (results or {}).items():
        if result.get("ok"):
            states[name] = "up"
        elif "sealed" in str(result.get("error", "")).lower():
            states[name] = "sealed"
        else:
            states[name] = "down"
    values = list(states.values())
    return {
        "checked": results is not None,
        "up": values.count("up"),
        "sealed": values.count("sealed"),
        "down": values.count("down"),
        "states": states,
    }


def headline_numbers(now=None) -> dict:
    """Every headline figure as plain numbers and short words (the digest's input)."""
    now = now or timezone.now()
    return {
        "at": now.isoformat(),
        "secrets": secrets_by_backend_and_environment(),
        "rotations": rotations_due(),
        "success": success_rates(now),
        "access": access(now),
        "mfa": mfa_coverage(),
        "audit": audit_chain(now),
        "backends": backends(),
    }
