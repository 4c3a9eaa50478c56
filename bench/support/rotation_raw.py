"""The baseline of bench/rotation.py: the same OpenBao calls the engine's blue-green KV path makes
for a secret without a hook (current version; staging metadata and value; read back; promote by
check-and-set with the run marker; drop the staging), from plain hvac, with no database, no queue
and no audit. One hvac client per thread. Twelve requests a rotation, in the engine's order
(secrets_admin/backends/vault_values.py): create reads the key's metadata and looks for a staging
left by an earlier attempt (a 404 on a fresh rotation), marks the staging and writes the value;
test reads the staging's metadata and value; finish reads both metadata, marks the key, reads the
staged value, writes it by check-and-set and deletes the staging.

Its HTTP session is the engine's (secrets_admin.backends.vault.session with the default config:
CA verification on, nothing taken from the environment), so both sides pay the same per request."""

import threading
import uuid

import hvac
import hvac.exceptions

from secrets_admin.backends.vault import session

_local = threading.local()


def _client(url: str, token: str) -> hvac.Client:
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = hvac.Client(url=url, token=token, timeout=10, session=session({}))
    return client


def rotate(url: str, token: str, key: str, value: str) -> None:
    client = _client(url, token)
    kv = client.secrets.kv.v2
    run, stage = uuid.uuid4().hex, f"candlefish-pending/{key}"
    base = kv.read_secret_metadata(path=key)["data"]["current_version"]  # create
    try:  # a staging of an earlier attempt? (the engine's write_pending asks; none here)
        kv.read_secret_metadata(path=stage)
    except hvac.exceptions.InvalidPath:
        pass
    kv.update_metadata(path=stage, custom_metadata={"candlefish-run": run, "candlefish-base": str(base)})
    kv.create_or_update_secret(path=stage, secret={"value": value}, cas=0)
    kv.read_secret_metadata(path=stage)  # test: read the pending value back
    kv.read_secret_version(path=stage, raise_on_deleted_version=True)
    kv.read_secret_metadata(path=key)  # finish: promote
    kv.read_secret_metadata(path=stage)
    client.adapter.request(
        "PATCH",
        f"/v1/secret/metadata/{key}",
        json={"custom_metadata": {"candlefish-run": run, "candlefish-deprecated": str(base)}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    data = kv.read_secret_version(path=stage, raise_on_deleted_version=True)["data"]["data"]
    kv.create_or_update_secret(path=key, secret=data, cas=base)
    kv.delete_metadata_and_all_versions(path=stage)
