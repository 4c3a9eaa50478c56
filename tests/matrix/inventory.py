"""The inventory: secrets, registration, sync runs, and the sync's live topic."""

from tests.matrix.roles import LOGGED_IN, SECURITY_TEAM_ONLY, every


def _inventory_secret(suffix=""):
    from secrets_admin.inventory.models import Secret

    secret, _ = Secret.objects.get_or_create(backend="vault", path="secret/matrix/key", kind="api_key")
    return f"/inventory/{secret.pk}/{suffix}"


def _inventory_run():
    from secrets_admin.inventory.models import SyncRun

    return f"/inventory/runs/{SyncRun.objects.create(backend='vault', state='succeeded').pk}/"


URLS = [
    ("/inventory/", LOGGED_IN),
    (_inventory_secret, LOGGED_IN),
    (lambda: _inventory_secret("edit/"), SECURITY_TEAM_ONLY),
    (lambda: _inventory_secret("edit/"), every(403, anonymous=302, no_device=302, security_team=400), "post"),
    ("/inventory/register/", SECURITY_TEAM_ONLY),
    ("/inventory/register/", every(403, anonymous=302, no_device=302, security_team=400), "post"),
    ("/inventory/runs/", LOGGED_IN),
    (_inventory_run, LOGGED_IN),
    # POST without a backend: back to the runs page with a message.
    (
        "/inventory/runs/start/",
        every(403, anonymous=302, no_device=302, security_team="/inventory/runs/"),
        "post",
    ),
]

# live topics on /ws/live/: topic -> {role: None when the socket is served, else the close code}
LIVE_TOPICS = {
    "inventory.sync": every(None, anonymous=4401, no_device=4401),
}
