"""Sealed Secrets: the page, a re-seal campaign, confirming a key's backup."""

from tests.matrix.roles import LOGGED_IN, SECURITY_TEAM_POSTS, every

# sealed: whoever reads the inventory reads the page; the
# security team starts a re-seal campaign and confirms key backups, each with a one-time code


def _sealed_key():
    from datetime import UTC, datetime

    from secrets_admin.sealed.models import SealingKey

    key, _ = SealingKey.objects.get_or_create(
        fingerprint="SHA256:matrix",
        defaults={"subject": "CN=sealed-secret", "not_after": datetime(2036, 1, 1, tzinfo=UTC)},
    )
    return f"/sealed/keys/{key.pk}/backed-up/"


SEALED_POST_ONLY = every(403, anonymous=302, no_device=302, security_team=405)
URLS = [
    ("/sealed/", LOGGED_IN),
    ("/sealed/", every(405, anonymous=302, no_device=302), "post"),  # read-only page
    ("/sealed/campaign/", SEALED_POST_ONLY),
    ("/sealed/campaign/", SECURITY_TEAM_POSTS, "post"),
    (_sealed_key, SEALED_POST_ONLY),
    (_sealed_key, SECURITY_TEAM_POSTS, "post"),
]
