"""The read-only reports for the security team, the CTO and managers: the dashboard, access
patterns and cost, break-glass analytics, compliance."""

from tests.matrix.roles import every

# dashboard: the tiles' topic and the list behind the success
# tiles, for the security team, the CTO group and managers (read-only: a POST is 405)
DASHBOARD = every(403, anonymous=302, no_device=302, security_team=200, cto=200, managers=200)
DASHBOARD_BAD_INPUT = every(
    403, anonymous=302, no_device=302, security_team=400, cto=400, managers=400
)  # a bad query string: 400 saying what to fix
DASHBOARD_NO_POST = every(403, anonymous=302, no_device=302, security_team=405, cto=405, managers=405)
URLS = [
    ("/dashboard/runs/", DASHBOARD),
    ("/dashboard/mfa/", DASHBOARD),
    ("/dashboard/runs/?days=abc", DASHBOARD_BAD_INPUT),
    ("/dashboard/runs/", DASHBOARD_NO_POST, "post"),
]
LIVE_TOPICS = {
    "dashboard.tiles": every(
        4403, anonymous=4401, no_device=4401, security_team=None, cto=None, managers=None
    )
}

# access patterns, cost and break-glass analytics: read-only pages
# for the security team, the CTO and managers; a bad filter answers 400 with what to fix
USAGE_READERS, USAGE_BAD_FILTER, USAGE_NO_POST = DASHBOARD, DASHBOARD_BAD_INPUT, DASHBOARD_NO_POST
URLS += [
    ("/usage/", USAGE_READERS),
    ("/usage/?from=2026-13-01", USAGE_BAD_FILTER),
    ("/usage/?secret=abc", USAGE_BAD_FILTER),
    ("/usage/", USAGE_NO_POST, "post"),
    ("/usage/cost/", USAGE_READERS),
    ("/usage/cost/", USAGE_NO_POST, "post"),
    ("/access/analytics/", USAGE_READERS),
    ("/access/analytics/?from=2026-02-01&to=2026-01-01", USAGE_BAD_FILTER),
    ("/access/analytics/", USAGE_NO_POST, "post"),
]

# compliance: security-team, cto and managers read the scores and
# drill-downs and export evidence (an empty or bad export form: 400 with what to fix)
COMPLIANCE_READERS, COMPLIANCE_REFUSED = DASHBOARD, DASHBOARD_BAD_INPUT
URLS += [
    ("/compliance/", COMPLIANCE_READERS),
    ("/compliance/?days=nonsense", COMPLIANCE_REFUSED),
    ("/compliance/", every(405, no_device=302), "post"),  # read-only page
    ("/compliance/soc2/", COMPLIANCE_READERS),
    ("/compliance/soc2/cc6-1/", COMPLIANCE_READERS),
    ("/compliance/export/", COMPLIANCE_READERS),
    ("/compliance/export/", COMPLIANCE_REFUSED, "post"),
]
