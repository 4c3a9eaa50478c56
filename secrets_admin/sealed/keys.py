"""Controller key pairs for the demo and the tests: what a sealed-secrets controller generates.

A real controller makes a 4096-bit RSA key and a self-signed certificate (CN=sealed-secret,
O=sealed-secret, ten years) and renews it every 30 days. The console never makes keys for a
real cluster; `make run` and the tests use these to have something to seal for and to decrypt.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class ControllerKey:
    certificate: Path
    private_key: Path


def make_controller_key(folder, stem: str, *, not_before: datetime, not_after: datetime, bits: int = 2048):
    """Write `<stem>.crt` and `<stem>.key` (PEM) into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "sealed-secret"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, stem),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    paths = ControllerKey(folder / f"{stem}.crt", folder / f"{stem}.key")
    paths.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.private_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths.private_key.chmod(0o600)
    return paths
