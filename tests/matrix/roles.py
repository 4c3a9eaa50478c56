"""Who visits, and the answers many rows share: the words every module of tests/matrix/ uses
(tests/permission_matrix.py explains the format)."""

LOGIN = "/accounts/login/"
CODE = "/accounts/mfa/verify/"
ENROLL = "/accounts/mfa/enroll/"

ALL = ("anonymous", "no_device", "developers", "security-team", "cto", "managers")
OPTIONAL = ("unverified",)
IMPLIED_REDIRECTS = {"anonymous": LOGIN, "no_device": ENROLL, "unverified": CODE}


def every(status, **overrides):
    """{role: status} for every role, with per-role overrides (use underscores for dashes)."""
    expected = {role: overrides.get(role.replace("-", "_"), status) for role in ALL}
    expected.update({role: overrides[role] for role in OPTIONAL if role in overrides})
    return expected


LOGGED_IN = every(200, anonymous=302, no_device=302)  # any verified member of any group
SECURITY_TEAM_ONLY = every(403, anonymous=302, no_device=302, security_team=200)
# the security team edits with a one-time code: an empty form is refused (400)
SECURITY_TEAM_POSTS = every(403, anonymous=302, no_device=302, security_team=400)
