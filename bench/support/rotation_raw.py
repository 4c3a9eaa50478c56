"""The baseline of bench/rotation.py: the same OpenBao calls the engine's blue-green KV path makes
for a secret without a hook (current version; staging metadata and value; read back; promote by
check-and-set with the run marker; drop the staging), from plain hvac, with no database, no queue
and no audit. One hvac client per thread. Twelve requests a rotation, in the engine's order
(secrets_admin/backends/vault_values.py): create reads the key's metadata and looks for a staging
left by an earlier attempt (a 404 on a fresh rotation), marks the staging and writes the value;
test reads the staging's metadata and value; finish reads both metadata, marks the key, reads the
staged value, writes it by check-and-set and deletes the staging.

Its HTTP session is the engine's (secrets_admin.backends.vault.session with the default config:
CA verification on, nothing taken from the environment), so both sides pay the same per request.

`rotate_on_pool` sends the same twelve requests on the engine's own client instead
(secrets_admin/backends/vault_http.py, a urllib3 pool): for information, the engine's overhead
on equal clients; the goal is judged against plain hvac."""

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


def _wire(url: str):
    import hvac.utils

    from secrets_admin.backends.vault_http import Wire

    wire = getattr(_local, "wire", None)
    if wire is None:
        wire = _local.wire = Wire({"url": url, "timeout": 10}, raise_for_error=hvac.utils.raise_for_error)
    return wire


def rotate_on_pool(url: str, token: str, key: str, value: str) -> None:
    """rotate(), request for request, on the engine's urllib3 pool."""
    call = _wire(url).request
    run, stage = uuid.uuid4().hex, f"candlefish-pending/{key}"
    meta, data = "/v1/secret/metadata", "/v1/secret/data"
    base = call("GET", f"{meta}/{key}", token)["data"]["current_version"]  # create
    try:
        call("GET", f"{meta}/{stage}", token)
    except hvac.exceptions.InvalidPath:
        pass
    marks = {"candlefish-run": run, "candlefish-base": str(base)}
    call("POST", f"{meta}/{stage}", token, json={"custom_metadata": marks})
    call("POST", f"{data}/{stage}", token, json={"options": {"cas": 0}, "data": {"value": value}})
    call("GET", f"{meta}/{stage}", token)  # test
    call("GET", f"{data}/{stage}", token)
    call("GET", f"{meta}/{key}", token)  # finish
    call("GET", f"{meta}/{stage}", token)
    marks = {"candlefish-run": run, "candlefish-deprecated": str(base)}
    patch = {"Content-Type": "application/merge-patch+json"}
    call("PATCH", f"{meta}/{key}", token, json={"custom_metadata": marks}, headers=patch)
    staged = call("GET", f"{data}/{stage}", token)["data"]["data"]
    call("POST", f"{data}/{key}", token, json={"options": {"cas": base}, "data": staged})
    call("DELETE", f"{meta}/{stage}", token)
