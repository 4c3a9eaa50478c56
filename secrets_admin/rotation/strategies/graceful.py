"""Graceful for certificates in OpenBao PKI: a replacement is issued before the old one expires
(the policy's lead days, 30 by default: the scheduler starts the run then), and both stay valid
and listed until the old one runs out by itself. Nothing is revoked.

    create   issue the replacement: same common name and alternative names, same lifetime, a URI
             SAN naming the run (urn:candlefish-run:<token>); a re-run finds it by that name and
             issues nothing (its serial is also kept in the state)
    set      nothing to install: the replacement is in OpenBao beside the old one, where the
             services that use the name fetch it (the console never holds a private key)
    test     the replacement is valid now, outlives the old one, carries the same names, is not
             revoked, and was signed by the mount's issuer
    finish   the replacement's serial is the new version id; the old certificate is due when the
             replacement is (its expiry, new_not_after, is kept in the run's state)
"""

from datetime import UTC, datetime, timedelta

from secrets_admin.backends import vault_engines as engines
from secrets_admin.rotation.strategies.base import StepFailed, Strategy


class Graceful(Strategy):
    name = "graceful"

    def applies_to(self, secret) -> str | None:
        if secret.kind != "certificate":
            return f"it is a {secret.get_kind_display().lower()}, and graceful renews certificates"
        if "/cert/" not in secret.path:
            return "only certificates issued by an OpenBao/Vault PKI mount are renewed"
        if (secret.details or {}).get("is_ca"):
            return "a CA certificate is not renewed by rotation"
        if (secret.details or {}).get("revoked"):
            return "the certificate is revoked; issue a new one instead of renewing it"
        return _renewed(secret) or _too_young(secret)

    def create(self, ctx):
        old = engines.certificate_facts(ctx.backend, _serial(ctx.secret))
        serial = ctx.state.get("new_serial") or engines.find_replacement(
            ctx.backend, old["common_name"], ctx.token
        )
        if not serial:
            serial = engines.issue_replacement(ctx.backend, old, ctx.token)
        ctx.state.update(
            old_serial=old["serial"],
            old_not_after=old["not_after"].isoformat(),
            new_serial=serial,
            common_name=old["common_name"],
        )

    def set(self, ctx):
        ctx.state["consumers_must_reread"] = True

    def test(self, ctx):
        old = engines.certificate_facts(ctx.backend, _serial(ctx.secret))
        new = engines.certificate_facts(ctx.backend, ctx.state["new_serial"])
        now = datetime.now(UTC)
        problems = []
        if not new["not_before"] <= now < new["not_after"]:
            problems.append("it is not valid now")
        if new["not_after"] <= old["not_after"]:
            problems.append("it does not outlive the certificate it replaces")
        if new["common_name"] != old["common_name"] or set(old["dns_names"]) - set(new["dns_names"]):
            problems.append("its names differ from the old certificate's")
        if engines.certificate_revoked(ctx.backend, new["serial"]):
            problems.append("it is revoked")
        if not engines.signed_by_issuer(ctx.backend, new["serial"]):
            problems.append("the mount's issuer did not sign it")
        if problems:
            raise StepFailed(f"the replacement {new['serial']}: " + "; ".join(problems), permanent=True)
        ctx.state["new_not_after"] = new["not_after"].isoformat()

    def finish(self, ctx):
        # The finished run's new_not_after moves the old certificate's due date to the
        # replacement's (inventory status.due_facts): it is renewed, not missed.
        if "new_not_after" not in ctx.state:
            new = engines.certificate_facts(ctx.backend, ctx.state["new_serial"])
            ctx.state["new_not_after"] = new["not_after"].isoformat()
        ctx.state["new_version_id"] = ctx.state["new_serial"]


def _renewed(secret) -> str | None:
    """Renewed already: a run of ours finished for it, or a valid certificate for the same name
    in the same backend outlives it. The old one stays valid (and due) until it expires, so
    without this every schedule tick would issue another replacement."""
    from secrets_admin.inventory.models import Secret
    from secrets_admin.rotation.models import RotationRun

    if RotationRun.objects.filter(
        secret=secret, strategy="graceful", state=RotationRun.State.FINISHED
    ).exists():
        return "it was renewed already; it stays valid until it expires"
    if secret.expires_at is None or not secret.name:
        return None
    candidates = (
        Secret.objects.filter(backend=secret.backend, kind="certificate", name=secret.name)
        .filter(expires_at__gt=secret.expires_at)
        .exclude(status="missing")
        .only("path", "details")
    )
    later = next((c for c in candidates[:20] if not (c.details or {}).get("revoked")), None)
    return f"it was renewed already by {later.path}, which expires later" if later else None


def _too_young(secret) -> str | None:
    """A certificate that lives shorter than its lead time is due the day it is issued; renewing
    it then would chain replacements without end. Such a one is renewed once two thirds of its
    life have passed."""
    if secret.expires_at is None or secret.created_at is None:
        return None
    policy = secret.rotation_policy
    lead = timedelta(days=policy.lead_days if policy is not None and policy.lead_days else 30)
    lifetime, left = secret.expires_at - secret.created_at, secret.expires_at - datetime.now(UTC)
    if lifetime < lead and left > lifetime / 3:
        hours = max(1, int((left - lifetime / 3).total_seconds() // 3600))
        return (
            "it lives shorter than its lead time and is renewed when a third of its life is left "
            f"(in about {hours} hours)"
        )
    return None


def _serial(secret) -> str:
    return secret.path.rsplit("/cert/", 1)[1]
