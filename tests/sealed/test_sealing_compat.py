"""Our sealing is kubeseal's format, proved two ways:

1. known-answer: a decryption written here from the sealed-secrets project's description
   (`pkg/crypto/crypto.go`: uint16 length, RSA-OAEP SHA-256 session key, AES-256-GCM zero nonce),
   with cryptography's primitives and none of our code;
2. an independent open-source implementation from PyPI (`kubesealpy`, a test-only dependency)
   opens what we seal, and we open what it seals.
"""

import base64
import shutil
import struct
import subprocess

import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secrets_admin.backends import sealing
from secrets_admin.backends.sealed_certs import fingerprint, load_private_key
from secrets_admin.backends.sealed_manifests import document

kubesealpy = pytest.importorskip("kubesealpy", reason="MISSING: kubesealpy (pip install -e '.[dev]')")

SCOPES = [("strict", b"payments/stripe"), ("namespace-wide", b"payments"), ("cluster-wide", b"")]


def independent_unseal(text: str, private_key, label: bytes) -> bytes:
    raw = base64.standard_b64decode(text)
    rsa_length = int.from_bytes(raw[:2], "big")
    session_key = private_key.decrypt(
        raw[2 : 2 + rsa_length],
        padding.OAEP(
            mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None
        ),
    )
    assert len(session_key) == 32, "a 32-byte session key: AES-256"
    return AESGCM(session_key).decrypt(b"\x00" * 12, raw[2 + rsa_length :], None)


@pytest.fixture
def keypair(controller_keys):
    private = load_private_key(str(controller_keys["current"].private_key))
    return private, private.public_key()


@pytest.mark.parametrize("scope, label", SCOPES, ids=[s for s, _ in SCOPES])
def test_an_independent_decryption_opens_what_we_seal(keypair, scope, label):
    private, public = keypair
    assert sealing.label_for(scope, "payments", "stripe") == label
    text = sealing.seal(b"sk_live_canary", public, label)
    assert independent_unseal(text, private, label) == b"sk_live_canary"
    raw = base64.b64decode(text)
    (length,) = struct.unpack(">H", raw[:2])
    assert length == public.key_size // 8, "the RSA ciphertext is one modulus long"
    assert len(raw) == 2 + length + len(b"sk_live_canary") + 16, "AES-GCM adds exactly its 16-byte tag"


def test_each_value_gets_its_own_session_key(keypair):
    _, public = keypair
    one, two = (base64.b64decode(sealing.seal(b"same", public, b"a/b")) for _ in range(2))
    assert one[2:258] != two[2:258] and one[258:] != two[258:]


def test_the_wrong_scope_does_not_unseal(keypair):
    private, public = keypair
    text = sealing.seal(b"value", public, b"payments/stripe")
    with pytest.raises(ValueError):
        independent_unseal(text, private, b"payments/other")
    with pytest.raises(sealing.SealingError):
        sealing.unseal(text, private, b"payments")


@pytest.mark.parametrize("scope, label", SCOPES, ids=[s for s, _ in SCOPES])
def test_kubesealpy_unseals_our_manifests(keypair, scope, label):
    private, public = keypair
    namespace = "" if scope == "cluster-wide" else "payments"
    values = {"api-key": b"sk_live_canary", "binary": bytes(range(256))}
    doc = document(
        name="stripe",
        namespace=namespace or "payments",
        scope=scope,
        encrypted={k: sealing.seal(v, public, label) for k, v in values.items()},
    )
    sealed = kubesealpy.SealedSecret.from_yaml(yaml.safe_dump(doc))
    secret = kubesealpy.Unsealer([private]).unseal(sealed)
    assert {k: base64.b64decode(v) for k, v in secret.data.items()} == values


@pytest.mark.parametrize("scope, label", SCOPES, ids=[s for s, _ in SCOPES])
def test_we_unseal_what_kubesealpy_seals(keypair, scope, label):
    private, public = keypair
    sealed = kubesealpy.Sealer(public_key=public).seal(
        name="stripe",
        namespace="payments",
        data={"k": b"from-kubesealpy"},
        scope=kubesealpy.SealingScope(scope),
    )
    text = sealed.spec.encrypted_data["k"]
    assert sealing.scope_of(sealed.metadata.annotations) == scope
    assert sealing.unseal(text, private, label) == b"from-kubesealpy"


def test_fingerprints_are_what_ssh_keygen_prints_as_kubeseal_does(keypair, tmp_path):
    """kubeseal's PublicKeyFingerprint is ssh.FingerprintSHA256 of the key: OpenSSH's own tool agrees."""
    _, public = keypair
    openssh = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    (tmp_path / "key.pub").write_bytes(openssh + b" controller\n")
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        pytest.skip("MISSING: ssh-keygen (Debian package openssh-client)")
    command = [keygen, "-l", "-E", "sha256", "-f", str(tmp_path / "key.pub")]
    printed = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    assert fingerprint(public) == printed[1]
