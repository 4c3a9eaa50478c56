"""Sealing exactly as kubeseal does (sealed-secrets `pkg/crypto`, `HybridEncrypt`).

One value, sealed:

    uint16 big-endian length of the RSA ciphertext || RSA ciphertext || AES-GCM ciphertext+tag

- a fresh random 32-byte session key per value;
- the session key encrypted with RSA-OAEP, SHA-256 for both the hash and MGF1, under the
  controller's public key, with the scope's label (`namespace/name`, `namespace`, or empty);
- the value encrypted with AES-256-GCM under the session key, a 12-byte all-zero nonce (the key
  is used once, which is what makes a fixed nonce safe) and no associated data;
- the whole, base64 (standard alphabet, padded) in `spec.encryptedData[key]`.

`unseal` exists for the demo and the tests (a private key is configured there only); the
console itself never needs to read a sealed value back.
"""

import base64
import binascii
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SESSION_KEY_BYTES = 32
ZERO_NONCE = bytes(12)
SCOPES = ("strict", "namespace-wide", "cluster-wide")
CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
NAMESPACE_WIDE = "sealedsecrets.bitnami.com/namespace-wide"


class SealingError(Exception):
    """The input cannot be sealed or unsealed; the message says why, never with a value."""


def label_for(scope: str, namespace: str, name: str) -> bytes:
    """The RSA-OAEP label that binds a sealed value to where it may be unsealed."""
    if scope == "cluster-wide":
        return b""
    if scope == "namespace-wide":
        return namespace.encode()
    if scope == "strict":
        return f"{namespace}/{name}".encode()
    raise SealingError(f"unknown scope {scope!r}: one of {', '.join(SCOPES)}")


def scope_of(annotations: dict | None) -> str:
    """The scope the annotations declare, as the controller reads them (cluster-wide wins)."""
    annotations = annotations or {}
    if str(annotations.get(CLUSTER_WIDE, "")).lower() == "true":
        return "cluster-wide"
    if str(annotations.get(NAMESPACE_WIDE, "")).lower() == "true":
        return "namespace-wide"
    return "strict"


def _oaep(label: bytes) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)


def seal(value: bytes, public_key: rsa.RSAPublicKey, label: bytes) -> str:
    """The base64 text kubeseal would write for `value` (a new session key every call)."""
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SealingError("a sealing certificate must hold an RSA public key")
    session_key = os.urandom(SESSION_KEY_BYTES)
    wrapped = public_key.encrypt(session_key, _oaep(label))
    sealed = struct.pack(">H", len(wrapped)) + wrapped + AESGCM(session_key).encrypt(ZERO_NONCE, value, None)
    return base64.b64encode(sealed).decode()


def split(text: str) -> tuple[bytes, bytes]:
    """(RSA ciphertext, AES ciphertext) of one sealed value; SealingError if it is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise SealingError("not base64") from None
    if len(raw) < 2:
        raise SealingError("too short to be a sealed value")
    (length,) = struct.unpack(">H", raw[:2])
    if len(raw) < 2 + length + 16:  # an AES-GCM ciphertext has at least its 16-byte tag
        raise SealingError("too short to be a sealed value")
    return raw[2 : 2 + length], raw[2 + length :]


def wrapped_key_bits(text: str) -> int:
    """Size in bits of the RSA key a value was sealed for (the wrapped key is one modulus long)."""
    return len(split(text)[0]) * 8


def opens_with(text: str, private_key: rsa.RSAPrivateKey, label: bytes) -> bool:
    """Whether `private_key` unwraps this value's session key (the value itself stays sealed)."""
    try:
        private_key.decrypt(split(text)[0], _oaep(label))
    except (ValueError, SealingError):
        return False
    return True


def unseal(text: str, private_key: rsa.RSAPrivateKey, label: bytes) -> bytes:
    """The value sealed in `text`; SealingError if the key or the label does not fit."""
    wrapped, body = split(text)
    try:
        session_key = private_key.decrypt(wrapped, _oaep(label))
        return AESGCM(session_key).decrypt(ZERO_NONCE, body, None)
    except (ValueError, InvalidTag):
        raise SealingError("this key and scope do not unseal it") from None
