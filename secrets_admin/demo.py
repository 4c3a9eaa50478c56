"""Demo data for `make run`: people in every group, with known authenticator keys.

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
    """Create (or leave alone) the demo people, audited like any account change.
    Returns [(username, group)]."""
    from secrets_admin.accounts.members import membership_audited
    from secrets_admin.audit.services import record

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
            record("user.created", actor="seed_demo", target=user, data={"username": username})
        team = Group.objects.get(name=group)
        if not user.groups.filter(pk=team.pk).exists():
            with membership_audited():
                user.groups.add(team)
            record(
                "group.member.added",
                actor="seed_demo",
                target=user,
                data={"group": group, "username": username},
            )
        made.append((username, group))
    return made


def demo_totp_key(username: str) -> bytes:
    """A fixed 20-byte TOTP seed per demo user (derived from the name), so re-seeding keeps the
    entry people already added to their authenticator app. Public on purpose: demo only."""
    import hashlib
    import hmac

    return hmac.new(b"candlefish-demo-totp", username.encode(), hashlib.sha1).digest()


@transaction.atomic
def seed_authenticators() -> list[tuple[str, str, str]]:
    """Give every demo user a confirmed authenticator with its known key (idempotent).

    Returns [(username, base32 key, otpauth URI)].
    """
    from secrets_admin.accounts.models import AuthenticatorDevice
    from secrets_admin.audit.services import record

    made = []
    for username, _full_name, _group in DEMO_USERS:
        user = User.objects.get(username=username)
        key = demo_totp_key(username)
        device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = AuthenticatorDevice(user=user, name="Demo authenticator", confirmed=True)
        if device.pk is None or device.bin_key != key:
            device.set_key(key)
            device.save()
            record("mfa.device.added", actor="seed_demo", target=device, data={"name": device.name})
        made.append((username, device.base32_key, device.config_url))
    return made
