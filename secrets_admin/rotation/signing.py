"""The rotation hook's request signature (HMAC-SHA256 of the raw body). No Django here: the demo
provider, a separate program, verifies with the same two functions."""

import hashlib
import hmac


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(key: bytes, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(key, body), signature or "")
