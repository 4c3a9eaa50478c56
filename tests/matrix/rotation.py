"""Rotation: runs, rotating a secret, hooks (a secret's and a policy's), database leases, and the
runs' live topic."""

from tests.matrix.roles import LOGGED_IN, SECURITY_TEAM_ONLY, every


def _rotation_secret():
    from secrets_admin.inventory.models import RotationPolicy, Secret

    policy = RotationPolicy.objects.filter(kind="api_key", is_default=True).first()
    secret, _ = Secret.objects.get_or_create(
        backend="vault", path="secret/matrix/rotated", defaults={"name": "rotated", "kind": "api_key"}
    )
    Secret.objects.filter(pk=secret.pk).update(rotation_policy=policy)
    secret.rotation_policy = policy
    return secret


def _rotation_run():
    from secrets_admin.rotation.models import RotationRun

    run = RotationRun.objects.create(secret=_rotation_secret(), strategy="blue-green", state="finished")
    return f"/rotation/runs/{run.pk}/"


URLS = [
    ("/rotation/", LOGGED_IN),
    (_rotation_run, LOGGED_IN),
    (lambda: f"/rotation/secrets/{_rotation_secret().pk}/rotate/", SECURITY_TEAM_ONLY),
    # POST without a one-time code: the form says what is missing (nothing starts)
    (
        lambda: f"/rotation/secrets/{_rotation_secret().pk}/rotate/",
        every(403, anonymous=302, no_device=302, security_team=400),
        "post",
    ),
    (lambda: f"/rotation/secrets/{_rotation_secret().pk}/hook/", SECURITY_TEAM_ONLY),
    (
        lambda: f"/rotation/secrets/{_rotation_secret().pk}/hook/",
        every(403, anonymous=302, no_device=302, security_team=400),
        "post",
    ),
]


# a policy's rotation hook: set or cleared with a one-time code
def _policy_hook():
    return f"/rotation/policies/{_rotation_secret().rotation_policy_id}/hook/"


def _policy_hook_clear():
    return _policy_hook() + "clear/"


URLS += [
    (_policy_hook, SECURITY_TEAM_ONLY),
    # POST without URL, key or code: the form names what is missing
    (_policy_hook, every(403, anonymous=302, no_device=302, security_team=400), "post"),
    (_policy_hook_clear, every(403, anonymous=302, no_device=302, security_team=405)),  # GET: a POST only
    # POST without a code: nothing is cleared
    (_policy_hook_clear, every(403, anonymous=302, no_device=302, security_team=400), "post"),
]

# rotation targets: database leases, orphans revoked with a code
URLS += [
    ("/rotation/leases/", SECURITY_TEAM_ONLY),
    ("/rotation/leases/", every(403, anonymous=302, no_device=302, security_team=400), "post"),  # empty form
]

# live topics on /ws/live/: run progress, for everyone who may view the inventory
LIVE_TOPICS = {"rotation.runs": every(None, anonymous=4401, no_device=4401)}
