"""Audit action names written by the accounts app (registered from AccountsConfig.ready), with
how the audit page words each entry as a sentence."""

from secrets_admin.audit.actions import register

REFUSALS = {
    "wrong": "wrong",
    "reused": "already used",
    "throttled": "too many tries",
    "malformed": "not a code",
    "no_device": "no authenticator set up",
    "invalid_form": "a malformed form",
    "no_pending_device": "no setup in progress",
    "recovery_code_used": "recovery code already used",
}


def _someone_named(entry, known: str, unknown: str) -> str:
    """Wording for entries about a login name: the account when one was named, else its hash."""
    if entry.target_type:
        return known
    if (entry.data or {}).get("login_hash"):
        return unknown
    return unknown.replace(" #{login_hash}", "")


def _login_failed(entry):
    return _someone_named(
        entry,
        "Someone from {ip} failed to log in as {target} (unverified: wrong password)",
        "Someone from {ip} failed to log in with a name that is no account (#{login_hash})",
    )


def _lockout(entry):
    return _someone_named(
        entry,
        "{target} was locked out for {ip} after too many wrong passwords",
        "A name that is no account (#{login_hash}) was locked out for {ip}",
    )


def _lockout_cleared(entry):
    if (entry.data or {}).get("reason") == "password_reset":
        return "{actor} reset their password, which ended the lockout for {ips}"
    return "{actor} unlocked {target} (locked for {ips})"


def _code_failed(entry):
    data = entry.data or {}
    reason = REFUSALS.get(data.get("reason"), data.get("reason") or "refused")
    kind = "step-up code" if data.get("step_up") else "one-time code"
    return f"{{actor}} entered a {kind} that was refused ({reason}) from {{ip}}, for {{purpose}}"


def _login_verified(entry):
    if (entry.data or {}).get("device") == "recovery_code":
        return "{actor} finished logging in with a recovery code ({recovery_codes_left} left)"
    return "{actor} finished logging in with a code from their authenticator app"


ACTIONS = {
    "auth.login.succeeded": (
        "Password accepted for a user (a second step may follow)",
        "{actor} entered the right password from {ip}",
    ),
    "auth.login.failed": (
        "Wrong username or password (the account named, if any, is unverified)",
        _login_failed,
    ),
    "auth.lockout": ("Too many failed logins: the account is locked out for that IP", _lockout),
    "auth.lockout.cleared": (
        "A lockout was lifted (by the security team, or by a password reset)",
        _lockout_cleared,
    ),
    "auth.logout": ("A user logged out", "{actor} logged out"),
    "auth.password.changed": ("A user changed their password", "{actor} changed their password"),
    "auth.password.reset": (
        "A user reset their password through the emailed link",
        "{actor} set a new password through the emailed reset link",
    ),
    "mfa.login.verified": ("A one-time code completed a login", _login_verified),
    "mfa.code.failed": (
        "A one-time code was refused (wrong, reused, throttled or missing device)",
        _code_failed,
    ),
    "mfa.stepup.verified": (
        "A one-time code authorised a sensitive action (purpose in data)",
        "{actor} confirmed {purpose} with a one-time code",
    ),
    "mfa.device.added": ("A user confirmed a new authenticator app", "{actor} set up {target}"),
    "mfa.device.removed": (
        "A user removed their authenticator app (to replace a lost or new phone)",
        "{actor} removed their authenticator app",
    ),
    "mfa.recovery_codes.generated": (
        "A user generated a new set of recovery codes",
        "{actor} generated {count} new recovery codes",
    ),
    "mfa.recovery_codes.download_refused": (
        "A recovery-code download did not match the user's unused codes",
        "{actor} asked to download recovery codes that are not their current ones",
    ),
    "user.created": (
        "A user account was created (manage.py add_person, or seed_demo's demo data)",
        "{actor} created the account {target}",
    ),
    "group.member.added": (
        "A security-team member added a user to a group",
        "{actor} added {target} to {group}",
    ),
    "group.member.removed": (
        "A security-team member removed a user from a group",
        "{actor} removed {target} from {group}",
    ),
    "group.member.refused": (
        "A group membership change was refused (bad or tampered input)",
        "{actor}'s group change was refused ({reason})",
    ),
}

for _name, (_description, _sentence) in ACTIONS.items():
    register(_name, _description, sentence=_sentence)
