"""Backend registry: kind name -> adapter class (dotted path, imported lazily).

`get_backend(name)` builds the adapter for a named connection in settings.SECRET_BACKENDS; the
instance is cached per configuration, so tests that point settings elsewhere get a fresh one.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from secrets_admin.backends.base import BackendError, SecretBackend

KINDS = {
    "vault": "secrets_admin.backends.vault.VaultBackend",
    "aws": "secrets_admin.backends.aws.AwsBackend",
    "sealed": "secrets_admin.backends.sealed.SealedBackend",
}

_cache: dict[tuple, SecretBackend] = {}


def get_backend(name: str) -> SecretBackend:
    try:
        config = settings.SECRET_BACKENDS[name]
    except KeyError:
        raise BackendError(f"no backend named {name!r} is configured", permanent=True, backend=name) from None
    key = (name, repr(sorted(config.items())))
    if key not in _cache:
        _cache[key] = import_string(KINDS[config["kind"]])(name, config)
    return _cache[key]


def backends_of_kind(kind: str) -> list[SecretBackend]:
    return [get_backend(name) for name, conf in settings.SECRET_BACKENDS.items() if conf.get("kind") == kind]


def _probe(kind: str) -> None:
    backends = backends_of_kind(kind)
    if not backends:
        raise BackendError(f"no {kind} backend is configured", permanent=True)
    for backend in backends:
        backend.ping()


def probe_vault() -> None:
    """Readiness probe: every configured Vault/OpenBao answers, unsealed, with our token valid."""
    _probe("vault")


def probe_aws() -> None:
    """Readiness probe: every configured AWS Secrets Manager endpoint answers."""
    _probe("aws")


__all__ = ["BackendError", "SecretBackend", "get_backend", "backends_of_kind", "probe_vault", "probe_aws"]
