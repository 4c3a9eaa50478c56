"""System checks for Sealed Secrets configuration, with stable ids.

sealed.E001  a sealed backend has no path, or its path is not a git clone
sealed.E002  a configured sealing certificate or private key cannot be read
sealed.W003  sealed backends are configured but no sealing certificate is
sealed.E004  a sealed backend names a remote the clone does not have (and it is not a URL)
"""

from pathlib import Path

from django.conf import settings
from django.core import checks

from secrets_admin.backends.base import BackendError


def _sealed_backends():
    return {name: conf for name, conf in settings.SECRET_BACKENDS.items() if conf.get("kind") == "sealed"}


@checks.register("console")
def check_sealed_backends(app_configs=None, **kwargs):
    errors = []
    backends = _sealed_backends()
    for name, conf in backends.items():
        path = Path(conf.get("path") or "")
        if not conf.get("path") or not (path / ".git").exists():
            errors.append(
                checks.Error(
                    f"Sealed backend {name!r}: {conf.get('path') or 'no path'} is not a git clone.",
                    hint='Set "path" to a local clone of the manifests repository (git clone URL PATH).',
                    id="sealed.E001",
                )
            )
            continue
        remote = conf.get("remote") or ""
        if remote and "://" not in remote and ":" not in remote and "/" not in remote:
            config = (path / ".git" / "config").read_text(errors="replace")
            if f'[remote "{remote}"]' not in config:
                errors.append(
                    checks.Error(
                        f"Sealed backend {name!r} names remote {remote!r}, which the clone does not have.",
                        hint=f"git -C {path} remote add {remote} URL, or give the URL itself.",
                        id="sealed.E004",
                    )
                )
    if backends and not settings.SEALED_CERTIFICATES:
        errors.append(
            checks.Warning(
                "Sealed backends are configured but SEALED_CERTIFICATES is empty: the console cannot tell "
                "old certificates or re-seal.",
                hint="kubeseal --fetch-cert > controller.pem, then SEALED_CERTIFICATES=/path/controller.pem",
                id="sealed.W003",
            )
        )
    from secrets_admin.backends import sealed_certs

    try:
        sealed_certs.certificates()
    except BackendError as exc:
        errors.append(
            checks.Error(
                f"A sealing certificate or key cannot be used: {exc}",
                hint="SEALED_CERTIFICATES and SEALED_PRIVATE_KEYS list readable PEM files.",
                id="sealed.E002",
            )
        )
    return errors
