"""Accounts: allauth's pages (rendered inside the console layout), the second factor, members."""

from tests.matrix.roles import LOGGED_IN, SECURITY_TEAM_ONLY, every

URLS = [
    # accounts (allauth)
    ("/accounts/login/", every("/", anonymous=200, no_device=302)),  # logged in: sent home
    ("/accounts/logout/", every(200, anonymous="/")),
    ("/accounts/signup/", every("/", anonymous=200, no_device=302)),  # renders "sign-up is closed"
    ("/accounts/password/change/", LOGGED_IN),
    ("/accounts/password/reset/", every(200, no_device=302)),
    # accounts (MFA, members)
    ("/accounts/mfa/", LOGGED_IN),
    # already enrolled (unverified too): back to the MFA page
    (
        "/accounts/mfa/enroll/",
        every("/accounts/mfa/", anonymous=302, no_device=200, unverified="/accounts/mfa/"),
    ),
    (
        "/accounts/mfa/verify/",
        every("/", anonymous=302, unverified=200),
    ),  # nothing pending / verified: sent on
    ("/accounts/mfa/recovery-codes/", every(405, no_device=302)),  # POST only
    ("/accounts/mfa/recovery-codes/download/", every(405)),  # POST only
    ("/accounts/members/", SECURITY_TEAM_ONLY),
    ("/accounts/members/", every(403, anonymous=302, no_device=302, security_team=400), "post"),  # empty form
    ("/accounts/members/unlock/", every(405, no_device=302)),  # POST only
    ("/accounts/members/unlock/", every(403, anonymous=302, no_device=302, security_team=400), "post"),
]

# accounts: more allauth pages (rendered inside the console layout)
URLS += [
    ("/accounts/email/", LOGGED_IN),
    ("/accounts/reauthenticate/", LOGGED_IN),
    ("/accounts/password/reset/done/", every(200, no_device=302)),
    (
        "/accounts/mfa/verify/",
        every("/", anonymous=302, unverified=400),
        "post",
    ),  # no pending login: to login
    # empty form: 400 with errors
    (
        "/accounts/mfa/enroll/",
        every("/accounts/mfa/", anonymous=302, no_device=400, unverified="/accounts/mfa/"),
        "post",
    ),
    ("/accounts/mfa/remove/", LOGGED_IN),  # asks for confirmation and a code
    ("/accounts/mfa/remove/", every(400, anonymous=302, no_device=302), "post"),  # empty form
]


# accounts: the rest of allauth's pages
URLS += [
    ("/accounts/inactive/", every(200, no_device=302)),
    ("/accounts/confirm-email/", every(200, no_device=302)),
    ("/accounts/confirm-email/not-a-key/", every(200, no_device=302)),  # "link expired or invalid"
    ("/accounts/login/code/confirm/", every("/", anonymous=302, no_device=302)),  # login by code is off
    ("/accounts/password/set/", every("/accounts/password/change/", anonymous=302, no_device=302)),
    ("/accounts/password/reset/key/1-not-a-key/", every(200, no_device=302)),  # "link not valid"
    ("/accounts/password/reset/key/done/", every(200, no_device=302)),
    # reauthentication by code is off: back to the password form
    ("/accounts/reauthenticate/code/", every("/accounts/reauthenticate/", anonymous=302, no_device=302)),
    (
        "/accounts/reauthenticate/code/confirm/",
        every("/accounts/reauthenticate/code/", anonymous=302, no_device=302),
    ),
]
