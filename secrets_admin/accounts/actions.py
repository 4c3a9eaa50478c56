"""Audit action names written by the accounts app (registered from AccountsConfig.ready)."""

from secrets_admin.audit.actions import register

ACTIONS = {
    "auth.login.succeeded": "Password accepted for a user (a second step may follow)",
    "auth.login.failed": "Wrong username or password (the account named, if any, is unverified)",
    "auth.lockout": "Too many failed logins: the account is locked out for that IP",
    "auth.lockout.cleared": "A lockout was lifted (by the security team, or by a password reset)",
    "auth.logout": "A user logged out",
    "auth.password.changed": "A user changed their password",
    "auth.password.reset": "A user reset their password through the emailed link",
    "mfa.login.verified": "A one-time code completed a login",
    "mfa.code.failed": "A one-time code was refused (wrong, reused, throttled or missing device)",
    "mfa.stepup.verified": "A one-time code authorised a sensitive action (purpose in data)",
    "mfa.device.added": "A user confirmed a new authenticator app",
    "mfa.device.removed": "A user removed their authenticator app (to replace a lost or new phone)",
    "mfa.recovery_codes.generated": "A user generated a new set of recovery codes",
    "mfa.recovery_codes.download_refused": "A recovery-code download did not match the user's unused codes",
    "user.created": "A user account was created by seed_demo (demo data, development only)",
    "group.member.added": "A security-team member added a user to a group",
    "group.member.removed": "A security-team member removed a user from a group",
    "group.member.refused": "A group membership change was refused (bad or tampered input)",
}

for _name, _description in ACTIONS.items():
    register(_name, _description)
