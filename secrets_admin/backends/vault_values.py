"""KV v2 values for rotation, through vault.py's client helpers (this module does not import hvac).

The pending value of a run lives beside the secret, at `<mount>/candlefish-pending/<key>` (a
folder the inventory walk skips): KV v2 has no stages, and a new version at the key itself would
be what every reader gets before the provider accepts it. The staging key's custom_metadata
carries `candlefish-run=<token>` and `candlefish-base=<version>` (the key's version the run
started from), so every call below is idempotent by run token:

- write_pending: staging of another run is dropped; ours is kept (a re-run writes nothing).
- promote: check-and-set from the base version; `candlefish-run=<token>` on the key says the
  new current version is this run's (and sync reads it for lineage); then the staging is removed.
- retire: the old version (marked `candlefish-deprecated` at promotion) is destroyed.

Values go from memory to the request body and back; they are never logged or put in messages.
"""

from secrets_admin.backends.base import BackendError
from secrets_admin.backends.metadata import RUN_KEY

PENDING_FOLDER = "candlefish-pending"
BASE_KEY = "candlefish-base"
DEPRECATED_KEY = "candlefish-deprecated"
VALUE_KEY = "value"


def _kv_key(backend, path: str) -> str:
    engine, key = backend._split(path)
    if engine != "kv":
        raise BackendError(
            f"{path}: only KV v2 secrets hold rotated values here",
            permanent=True,
            backend=backend.name,
            reason="not a path",
        )
    return key


def _mount(backend) -> str:
    return backend.mounts["kv"]


def _metadata(backend, key: str) -> dict | None:
    """The key's metadata (custom_metadata, current_version), None if it does not exist."""
    try:
        return backend._data(f"{_mount(backend)}/metadata/{key}", f"read metadata of {key}")
    except BackendError as exc:
        if exc.reason == "not found":
            return None
        raise


def _custom(meta: dict | None) -> dict:
    return (meta or {}).get("custom_metadata") or {}


def _write(backend, key: str, data: dict, *, cas: int, doing: str) -> int:
    try:
        response = backend._call(
            "POST", f"{_mount(backend)}/data/{key}", doing, json={"options": {"cas": cas}, "data": data}
        )
    except BackendError as exc:
        message = str(exc).removeprefix(f"{backend.name}: ")
        for value in data.values():
            message = message.replace(str(value), "[value]")
        if "check-and-set" in message:
            message = f"{doing}: the secret changed meanwhile (check-and-set from version {cas} refused)"
        raise BackendError(
            message, permanent=exc.permanent, backend=backend.name, reason=exc.reason
        ) from None
    return int(response["data"]["version"])


def _read(backend, key: str, doing: str, version: int | None = None) -> dict:
    kwargs = {"params": {"version": version}} if version else {}
    response = backend._call("GET", f"{_mount(backend)}/data/{key}", doing, **kwargs)
    if not isinstance(response, dict) or not (response.get("data") or {}).get("data"):
        raise BackendError(f"{doing}: not found", permanent=True, backend=backend.name, reason="not found")
    return response["data"]["data"]


def _value(backend, data: dict, path: str) -> str:
    if VALUE_KEY not in data:
        raise BackendError(
            f"{path} has no {VALUE_KEY!r} field to rotate",
            permanent=True,
            backend=backend.name,
            reason="refused input",
        )
    return str(data[VALUE_KEY])


def pending_location(backend, path: str) -> str:
    return f"{_mount(backend)}/{PENDING_FOLDER}/{_kv_key(backend, path)}"


def current_version(backend, path: str) -> str:
    key = _kv_key(backend, path)
    meta = _metadata(backend, key)
    if meta is None:
        raise BackendError(f"{path} does not exist", permanent=True, backend=backend.name, reason="not found")
    return str(int(meta.get("current_version") or 0))


def write_pending(backend, path: str, value: str, *, token: str, cas) -> str:
    """Stage `value` for run `token`, from base version `cas`; returns the version it will have
    when promoted. A re-run after a crash finds its staging and writes nothing."""
    key = _kv_key(backend, path)
    stage = f"{PENDING_FOLDER}/{key}"
    meta = _metadata(backend, stage)
    if meta is not None and _custom(meta).get(RUN_KEY) == token:
        base = int(_custom(meta).get(BASE_KEY) or 0)
        if int(meta.get("current_version") or 0) >= 1:
            return str(base + 1)
    else:
        if meta is not None:  # left by a run that never finished: its value is not ours to keep
            backend._call("DELETE", f"{_mount(backend)}/metadata/{stage}", f"drop old staging of {path}")
        base = int(cas)
        backend._call(
            "POST",
            f"{_mount(backend)}/metadata/{stage}",
            f"mark staging of {path}",
            json={"custom_metadata": {RUN_KEY: token, BASE_KEY: str(base)}},
        )
    _write(backend, stage, {VALUE_KEY: value}, cas=0, doing=f"stage the new value of {path}")
    return str(base + 1)


def read_pending(backend, path: str, *, token: str) -> str:
    key = _kv_key(backend, path)
    stage = f"{PENDING_FOLDER}/{key}"
    meta = _metadata(backend, stage)
    if meta is None or _custom(meta).get(RUN_KEY) != token:
        raise BackendError(
            f"{path} has no pending value of this run",
            permanent=True,
            backend=backend.name,
            reason="not found",
        )
    return _value(backend, _read(backend, stage, f"read the pending value of {path}"), path)


def read_current(backend, path: str) -> str:
    key = _kv_key(backend, path)
    return _value(backend, _read(backend, key, f"read the current value of {path}"), path)


def promote(backend, path: str, *, token: str) -> str:
    """Make the staged value the key's current version (check-and-set from the run's base);
    returns that version. Idempotent: a promoted run returns its version again."""
    key = _kv_key(backend, path)
    stage = f"{PENDING_FOLDER}/{key}"
    main, staged = _metadata(backend, key), _metadata(backend, stage)
    if main is None:
        raise BackendError(f"{path} does not exist", permanent=True, backend=backend.name, reason="not found")
    current = int(main.get("current_version") or 0)
    ours = _custom(main).get(RUN_KEY) == token
    if staged is None or _custom(staged).get(RUN_KEY) != token:
        if ours:
            return str(current)  # promoted, staging already removed
        raise BackendError(
            f"{path} has no pending value of this run",
            permanent=True,
            backend=backend.name,
            reason="not found",
        )
    base = int(_custom(staged).get(BASE_KEY) or 0)
    if current == base:
        mark = {RUN_KEY: token, DEPRECATED_KEY: str(base) if base else None}
        backend._call(
            "PATCH",
            f"{_mount(backend)}/metadata/{key}",
            f"mark {path} as rotated",
            json={"custom_metadata": mark},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        data = _read(backend, stage, f"read the pending value of {path}")
        current = _write(backend, key, data, cas=base, doing=f"promote the new value of {path}")
        del data
    elif not (current == base + 1 and ours):
        raise BackendError(
            f"{path} changed since the rotation began (version {current}, the run started from {base})",
            permanent=True,
            backend=backend.name,
            reason="changed meanwhile",
        )
    backend._call("DELETE", f"{_mount(backend)}/metadata/{stage}", f"remove the staging of {path}")
    return str(current)


def retire(backend, path: str, version_id: str) -> None:
    """Destroy the old version (after the overlap) and drop its deprecated mark. Idempotent."""
    key = _kv_key(backend, path)
    backend._call(
        "POST",
        f"{_mount(backend)}/destroy/{key}",
        f"destroy version {version_id} of {path}",
        json={"versions": [int(version_id)]},
    )
    meta = _metadata(backend, key)
    if meta is not None and _custom(meta).get(DEPRECATED_KEY) == str(version_id):
        backend._call(
            "PATCH",
            f"{_mount(backend)}/metadata/{key}",
            f"unmark {path}",
            json={"custom_metadata": {DEPRECATED_KEY: None}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
