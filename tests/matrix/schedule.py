"""The rotation schedule: policies, overrides, links and the calendar."""

from tests.matrix.roles import LOGGED_IN, SECURITY_TEAM_ONLY, SECURITY_TEAM_POSTS, every

# schedule: whoever reads the inventory reads policies, overrides,
# links and the calendar; the security team edits them, each with a one-time code (empty form: 400)


def _schedule_policy():
    from secrets_admin.inventory.models import RotationPolicy

    return f"/schedule/policies/{RotationPolicy.objects.get(name='api-key-90-days').pk}/edit/"


def _schedule_override(suffix=""):
    from secrets_admin.inventory.models import Secret
    from secrets_admin.schedule.models import SecretOverride

    secret, _ = Secret.objects.get_or_create(backend="vault", path="secret/matrix/key", kind="api_key")
    SecretOverride.objects.get_or_create(secret=secret, defaults={"interval_days": 30})
    return f"/schedule/overrides/{secret.pk}/{suffix}"


def _schedule_link():
    from secrets_admin.inventory.models import Secret
    from secrets_admin.schedule.models import SecretLink

    a, _ = Secret.objects.get_or_create(backend="vault", path="secret/matrix/key", kind="api_key")
    b, _ = Secret.objects.get_or_create(backend="vault", path="secret/matrix/consumer", kind="api_key")
    first, second = sorted((a.pk, b.pk))
    link, _ = SecretLink.objects.get_or_create(
        first_id=first, second_id=second, defaults={"reason": "matrix"}
    )
    return f"/schedule/links/{link.pk}/remove/"


URLS = [
    ("/schedule/policies/", LOGGED_IN),
    (_schedule_policy, SECURITY_TEAM_ONLY),
    (_schedule_policy, SECURITY_TEAM_POSTS, "post"),
    ("/schedule/overrides/", LOGGED_IN),
    (_schedule_override, SECURITY_TEAM_ONLY),
    (_schedule_override, SECURITY_TEAM_POSTS, "post"),
    (lambda: _schedule_override("remove/"), SECURITY_TEAM_ONLY),
    (lambda: _schedule_override("remove/"), SECURITY_TEAM_POSTS, "post"),
    ("/schedule/links/", LOGGED_IN),
    ("/schedule/links/new/", SECURITY_TEAM_ONLY),
    ("/schedule/links/new/", SECURITY_TEAM_POSTS, "post"),
    (_schedule_link, SECURITY_TEAM_ONLY),
    (_schedule_link, SECURITY_TEAM_POSTS, "post"),
    ("/schedule/calendar/", LOGGED_IN),
    ("/schedule/calendar/", every(405, anonymous=302, no_device=302), "post"),  # read-only page
]
