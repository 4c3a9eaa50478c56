"""Audit for authentication events that happen inside Django, allauth and axes, and a safety
net for group membership changed outside the console's services.

These are the only signal-based audit entries: the login, logout and password flows belong to
the libraries, so their signals are the hook. Each entry is written in its own transaction.
Group membership normally changes through `members.do_change_membership` (a one-time code, its
own entry); `audit_membership_outside_services` records a change made any other way — a
`manage.py shell`, a script, a future admin — inside the transaction Django opens for it.
"""

from allauth.account.signals import password_changed, password_reset
from axes.signals import user_locked_out
from django.contrib.auth.models import AnonymousUser, Group, User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django_otp import DEVICE_ID_SESSION_KEY

from secrets_admin.accounts import lockout
from secrets_admin.accounts.members import audited_by_service
from secrets_admin.audit.services import record

# Who the ledger names for a membership change that bypassed the services: nobody we can know.
OUTSIDE_SERVICES = "outside-console"


def _audit(action, *, actor, data=None, request=None):
    with transaction.atomic():
        record(action, actor=actor, data=data or {}, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    """The account the text named is the entry's subject (target), marked unverified; text naming
    no account is kept only as a keyed hash. The IP comes with the request."""
    target, data = lockout.subject(lockout.typed_login(request, credentials))
    with transaction.atomic():
        record("auth.login.failed", actor=AnonymousUser(), target=target, data=data, request=request)


@receiver(user_locked_out, dispatch_uid="accounts.audit_lockout")
def audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    target, data = lockout.subject(username)
    with transaction.atomic():
        record("auth.lockout", actor=AnonymousUser(), target=target, data=data, request=request)


@receiver(user_logged_in, dispatch_uid="accounts.audit_login")
def audit_login(sender, request, user, **kwargs):
    verified = bool(request is not None and request.session.get(DEVICE_ID_SESSION_KEY))
    _audit("auth.login.succeeded", actor=user, data={"second_factor": verified}, request=request)


@receiver(user_logged_out, dispatch_uid="accounts.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        _audit("auth.logout", actor=user, request=request)


@receiver(password_changed, dispatch_uid="accounts.audit_password_changed")
def audit_password_changed(sender, request, user, **kwargs):
    _audit("auth.password.changed", actor=user, request=request)


@receiver(password_reset, dispatch_uid="accounts.audit_password_reset")
def audit_password_reset(sender, request, user, **kwargs):
    """A reset proves the mailbox: it also ends the account's lockouts, so "log in now" is true."""
    with transaction.atomic():
        record("auth.password.reset", actor=user, request=request)
        lockout.clear_after_password_reset(user, request=request)


def _memberships(instance, reverse, pk_set):
    """[(user, group)] pairs an m2m_changed event on User.groups is about."""
    if reverse:  # group.user_set.add(user): instance is the Group, pk_set holds user ids
        users = User.objects.filter(pk__in=pk_set) if pk_set is not None else instance.user_set.all()
        return [(user, instance) for user in users.order_by("pk")]
    groups = Group.objects.filter(pk__in=pk_set) if pk_set is not None else instance.groups.all()
    return [(instance, group) for group in groups.order_by("pk")]


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="accounts.audit_membership")
def audit_membership_outside_services(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Record group changes made without a service. Additions are recorded after Django found
    which are new (post_add); removals before, while the rows still say what is removed."""
    if audited_by_service() or action not in ("post_add", "pre_remove", "pre_clear"):
        return
    pairs = _memberships(instance, reverse, pk_set if action != "pre_clear" else None)
    if action == "pre_remove":  # Django passes the ids asked for, not only current members
        current = set(
            User.groups.through.objects.filter(
                user__in=[u for u, _ in pairs], group__in=[g for _, g in pairs]
            ).values_list("user_id", "group_id")
        )
        pairs = [(u, g) for u, g in pairs if (u.pk, g.pk) in current]
    verb = "group.member.added" if action == "post_add" else "group.member.removed"
    for user, group in pairs:  # Django already holds a transaction around the change
        record(
            verb,
            actor=OUTSIDE_SERVICES,
            target=user,
            data={"group": group.name, "username": user.get_username(), "via": "outside the console"},
        )
