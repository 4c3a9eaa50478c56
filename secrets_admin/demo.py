"""Demo data for `make run`: people in every group (later: secrets in every backend).

Passwords are public on purpose; `seed_demo` refuses to run outside development.
"""

from django.contrib.auth.models import Group, User
from django.db import transaction

from secrets_admin.roles import CTO, DEVELOPERS, MANAGERS, SECURITY_TEAM

DEMO_PASSWORD = "candlefish-demo"
DEMO_USERS = (
    ("alice", "Alice Developer", DEVELOPERS),
    ("bob", "Bob Developer", DEVELOPERS),
    ("carol", "Carol Security", SECURITY_TEAM),
    ("dave", "Dave Security", SECURITY_TEAM),
    ("erin", "Erin CTO", CTO),
    ("frank", "Frank Manager", MANAGERS),
)


@transaction.atomic
def seed_users() -> list[tuple[str, str]]:
    """Create (or leave alone) the demo people. Returns [(username, group)]."""
    made = []
    for username, full_name, group in DEMO_USERS:
        first, last = full_name.split(" ", 1)
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"email": f"{username}@candlefish.example", "first_name": first, "last_name": last},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=group))
        made.append((username, group))
    return made
