"""Accounts pages: MFA (enroll, verify, recovery codes, removing an authenticator) in `mfa`, the
security team's Members page (groups, lockouts) in `members`."""
