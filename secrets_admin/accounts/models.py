"""MFA devices for django-otp, owned by the console.

`AuthenticatorDevice` is a TOTP device whose seed is stored encrypted (MultiFernet, see
`crypto.py`); django-otp's own TOTPDevice keeps the seed as clear hex, so it is not used.
`RecoveryCodeDevice` holds ten one-time codes (about 89 bits each) as SHA-256 hashes, never in clear.
Both are django-otp `Device`s, so `django_otp.match_token` / `verify_token` find them.
"""

import hashlib
import secrets
import time
from base64 import b32encode
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from secrets_admin.accounts import crypto

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _throttle_factor():
    return getattr(settings, "OTP_THROTTLE_FACTOR", 1)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """A TOTP authenticator app. `encrypted_key` is a Fernet token of the raw seed bytes.

    Verification follows django-otp's TOTPDevice: codes within `tolerance` steps match, and a
    code is accepted only at a time step above `last_t`, so every code works once.
    """

    encrypted_key = models.TextField(help_text="Fernet token of the seed; never the seed itself.")
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1, help_text="Time step of the last accepted code.")

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    # The step of the code that the last successful verify_token() accepted (not a field).
    verified_step = None

    @property
    def bin_key(self) -> bytes:
        return crypto.decrypt(self.encrypted_key)

    def set_key(self, raw: bytes) -> None:
        self.encrypted_key = crypto.encrypt(raw)

    @property
    def base32_key(self) -> str:
        """The seed as base32 text, for typing into an authenticator app."""
        return b32encode(self.bin_key).decode("ascii").rstrip("=")

    @property
    def config_url(self) -> str:
        """otpauth:// URI (Key Uri Format) for QR codes."""
        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "Candlefish")).replace(":", "")
        label = f"{issuer}:{self.user.get_username()}"
        params = urlencode(
            {"secret": self.base32_key, "algorithm": "SHA1", "digits": self.digits, "period": self.step}
        )
        return f"otpauth://totp/{quote(label)}?{params}&issuer={quote(issuer)}"

    def _totp(self) -> TOTP:
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        return totp

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            number = int(str(token).strip())
        except (TypeError, ValueError):
            # Not a code of this device at all (a recovery code, tried against every device):
            # no throttle, or logging in with a recovery code would slow down the app's codes.
            return False
        totp = self._totp()
        if totp.verify(number, self.tolerance, self.last_t + 1):
            self.last_t = self.verified_step = totp.t()
            self.drift = totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False

    def token_was_used(self, token) -> bool:
        """True when `token` is a valid code of a step at or below `last_t` (a replay)."""
        try:
            number = int(str(token).strip())
        except (TypeError, ValueError):
            return False
        totp = self._totp()
        return totp.verify(number, self.tolerance) and totp.t() <= self.last_t

    def get_throttle_factor(self):
        return _throttle_factor()


def normalize_recovery_code(code: str) -> str:
    return "".join(str(code).lower().split()).replace("-", "")


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalize_recovery_code(code).encode()).hexdigest()


RECOVERY_CODE_LENGTH = 18  # 18 characters of a 31-letter alphabet: 89 bits each


def new_recovery_code() -> str:
    """A fresh code like `abcdef-ghjkmn-pqrstu` (about 89 bits: guessing one is hopeless, so a
    fast unsalted hash is enough to store it). Codes of the earlier 10-letter form keep working:
    both are stored as the SHA-256 of the normalised text."""
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[i : i + 6] for i in range(0, RECOVERY_CODE_LENGTH, 6))


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """Ten one-time recovery codes; only their hashes are stored."""

    class Meta(Device.Meta):
        verbose_name = "recovery codes"

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        code = self.codes.filter(code_hash=hash_recovery_code(token), used_at=None).first()
        if code is not None:
            code.used_at = timezone.now()
            code.save(update_fields=["used_at"])
            self.throttle_reset(commit=True)
            return True
        self.throttle_increment(commit=True)
        return False

    def code_was_used(self, token) -> bool:
        return self.codes.filter(code_hash=hash_recovery_code(token)).exclude(used_at=None).exists()

    def remaining(self) -> int:
        return self.codes.filter(used_at=None).count()

    def get_throttle_factor(self):
        return _throttle_factor()


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "code_hash"], name="recovery_code_once")]

    def __str__(self):
        return f"recovery code #{self.pk}"


class UsedCode(models.Model):
    """A one-time code spent on a step-up, and the purpose it was bound to.

    Unique on (device, step): a second use of the same code fails even if `last_t` were lost.
    """

    device = models.ForeignKey(AuthenticatorDevice, on_delete=models.CASCADE, related_name="used_codes")
    step = models.BigIntegerField()
    purpose = models.CharField(max_length=255)
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "step"], name="used_code_once")]

    def __str__(self):
        return f"{self.purpose} @ step {self.step}"
