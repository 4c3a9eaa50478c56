"""The sealing certificates the console knows: the controller's public certificates over time.

SEALED_CERTIFICATES lists PEM files (a controller renews its key every 30 days by default and keeps
the old ones, so there are several); each certificate's not-after comes from the certificate.
SEALED_PRIVATE_KEYS (demo and tests only) lists the matching private keys, which let the console
tell which certificate sealed a manifest and prove a re-seal by decrypting it.

Fingerprints are kubeseal's (`pkg/crypto.PublicKeyFingerprint`): "SHA256:" and the unpadded base64
of the SHA-256 of the public key in SSH wire form, so they match `kubeseal --fetch-cert` tooling.
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from secrets_admin.backends.base import BackendError

STATUSES = ("current", "old", "expiring", "expired", "unknown")


@dataclass(frozen=True)
class SealingCertificate:
    fingerprint: str
    subject: str
    not_before: datetime
    not_after: datetime
    key_bits: int
    source: str  # the file it came from
    public_key: rsa.RSAPublicKey
    private_key: rsa.RSAPrivateKey | None = None

    def status(self, newest: "SealingCertificate", now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        if self.not_after <= now:
            return "expired"
        if self.not_after <= now + timedelta(days=settings.SEALED_CERT_WARN_DAYS):
            return "expiring"
        return "current" if self.fingerprint == newest.fingerprint else "old"

    def facts(self) -> dict:
        """JSON-safe description (no key material)."""
        return {
            "fingerprint": self.fingerprint,
            "subject": self.subject,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "key_bits": self.key_bits,
            "source": self.source,
            "private_key": self.private_key is not None,
        }


def fingerprint(public_key) -> str:
    """kubeseal's fingerprint of an RSA public key."""
    openssh = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    wire = base64.b64decode(openssh.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(wire).digest()).decode().rstrip("=")


def _problem(text: str) -> BackendError:
    return BackendError(text, permanent=True, backend="sealed", reason="bad certificate")


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise _problem(f"cannot read {path}: {exc.strerror or exc}") from None


def load_certificate(path: str) -> list[SealingCertificate]:
    """Every certificate in one PEM file; BackendError naming the file if it holds none."""
    try:
        certs = x509.load_pem_x509_certificates(_read(path))
    except ValueError:
        raise _problem(f"{path} holds no PEM certificate") from None
    found = []
    for cert in certs:
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise _problem(f"{path}: a sealing certificate holds an RSA key, this one does not")
        found.append(
            SealingCertificate(
                fingerprint=fingerprint(key),
                subject=cert.subject.rfc4514_string(),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                key_bits=key.key_size,
                source=str(path),
                public_key=key,
            )
        )
    return found


def load_private_key(path: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError):
        raise _problem(f"{path} holds no unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _problem(f"{path}: not an RSA private key")
    return key


_cache: dict[tuple, list[SealingCertificate]] = {}


def _mtime(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return -1.0


def certificates() -> list[SealingCertificate]:
    """The configured certificates, oldest first (by not-before), each with its private key when
    one is configured. Cached per configuration and file times; BackendError if a file is
    unreadable."""
    key = tuple(
        (path, _mtime(path)) for path in [*settings.SEALED_CERTIFICATES, "|", *settings.SEALED_PRIVATE_KEYS]
    )  # a file replaced in place (the controller renewed its key) is read again
    if key not in _cache:
        privates = {}
        for path in settings.SEALED_PRIVATE_KEYS:
            private = load_private_key(path)
            privates[fingerprint(private.public_key())] = private
        found: dict[str, SealingCertificate] = {}
        for path in settings.SEALED_CERTIFICATES:
            for cert in load_certificate(path):
                private = privates.get(cert.fingerprint)
                found[cert.fingerprint] = SealingCertificate(**{**cert.__dict__, "private_key": private})
        _cache[key] = sorted(found.values(), key=lambda c: (c.not_before, c.not_after))
    return _cache[key]


def newest() -> SealingCertificate | None:
    """The certificate new seals use: the newest not yet expired one."""
    now = datetime.now(UTC)
    valid = [cert for cert in certificates() if cert.not_after > now]
    return valid[-1] if valid else None


def by_fingerprint(value: str) -> SealingCertificate | None:
    return next((cert for cert in certificates() if cert.fingerprint == value), None)


def status_of(cert: SealingCertificate | None) -> str:
    if cert is None:
        return "unknown"
    top = newest()
    return cert.status(top) if top else "expired"
