"""The second-factor rule pages apply (accounts' SecondFactorMiddleware), for the places that
are not pages: the live socket and /readyz's details."""

from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp.models import Device


def past_second_factor(user, session) -> bool:
    """True for an active, signed-in user who verified a device of their own in this session,
    or who has no confirmed device while MFA is not required."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    device_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    device = Device.from_persistent_id(device_id) if device_id else None
    verified = device is not None and device.user_id == user.pk  # as django_otp's middleware checks
    if user_has_device(user, confirmed=True):
        return verified
    return verified or not settings.MFA_REQUIRED
