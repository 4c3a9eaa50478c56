"""The console's groups, in the product's words. Created by a data migration."""

DEVELOPERS = "developers"
SECURITY_TEAM = "security-team"
CTO = "cto"
MANAGERS = "managers"

GROUPS = (DEVELOPERS, SECURITY_TEAM, CTO, MANAGERS)
