"""The `reseal` strategy: SealedSecrets in Git, rotated by sealing new values for the newest
controller certificate. The steps live with the Sealed Secrets app (secrets_admin.sealed.rotation)."""

from secrets_admin.rotation.strategies.base import Strategy
from secrets_admin.sealed.rotation import ResealSteps


class Reseal(ResealSteps, Strategy):
    name = "reseal"
