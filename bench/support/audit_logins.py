"""Part 2 of bench/audit.py: an inventory edit whose OpenBao call takes `delay` seconds (a
delaying proxy in front of the real OpenBao) while another user logs in, v2 against the v1 shape
(the change holding the chain lock across the backend call). Not a benchmark of its own."""

import multiprocessing
import os
import statistics
import threading
import time

from slow_proxy import SlowProxy


def p95(values) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def setup(openbao, *, delay: float):
    """A KV secret in the inventory whose backend is OpenBao behind a 2-second proxy, and ten
    security-team members with authenticators (one code each per 30-second step)."""
    import pyotp
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    from secrets_admin.accounts.models import AuthenticatorDevice
    from secrets_admin.backends import get_backend
    from secrets_admin.inventory.models import Secret
    from secrets_admin.inventory.services.register import store_remote

    proxy = SlowProxy(openbao.url, delay=delay, methods={"PATCH"}).start()
    settings.SECRET_BACKENDS = {**settings.SECRET_BACKENDS, "slowbao": {**settings.SECRET_BACKENDS["vault"]}}
    settings.SECRET_BACKENDS["slowbao"].update(url=proxy.url, timeout=10)
    path = f"secret/bench/slow-{int(time.time())}"
    get_backend("vault").create_secret(path, kind="api_key", metadata={"owner": "bench"})
    Secret.objects.filter(backend="slowbao").delete()
    with transaction.atomic():
        secret = store_remote(get_backend("slowbao").describe(path), source="import", created_by="bench")
    team = Group.objects.get(name="security-team")
    people = []
    for n in range(10):
        user, _ = User.objects.get_or_create(username=f"bench-sec-{n}")
        user.groups.add(team)
        AuthenticatorDevice.objects.filter(user=user).delete()
        device = AuthenticatorDevice(user=user, name="bench", confirmed=True)
        device.set_key(os.urandom(20))
        device.save()
        people.append((user, pyotp.TOTP(device.base32_key)))
    login_user, _ = User.objects.get_or_create(username="bench-login")
    return proxy, secret, people, login_user


def audited_login(user) -> float:
    """Seconds for django.contrib.auth.login (session, axes, last_login, the audit entry)."""
    from django.contrib.auth import login
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    request = RequestFactory().post("/accounts/login/")
    SessionMiddleware(lambda r: None).process_request(request)
    started = time.perf_counter()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    return time.perf_counter() - started


def _v1_lock(cursor):
    from secrets_admin.audit import sequencer

    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [sequencer.CHAIN_LOCK_KEY])


def _changes(secret_id, people, stop, errors) -> None:
    """One edit after another, each waiting 2 s on OpenBao, by a different person (the child
    process of delays())."""
    from django.db import connection

    from secrets_admin.accounts.stepup import StepUpFailed
    from secrets_admin.inventory.services.edit import do_update_metadata

    turn, refused = 0, 0
    try:
        while not stop.is_set() and refused < 20:
            user, totp = people[turn % len(people)]
            code = totp.at(time.time(), counter_offset=turn // len(people) % 3 - 1)
            turn += 1
            try:
                do_update_metadata(secret_id, actor=user, changes={"purpose": f"bench {turn}"}, otp=code)
            except StepUpFailed as exc:  # a code from the step before that expired on the way
                refused += 1  # (no backend call followed, so no login was timed beside it)
                errors.put(f"StepUpFailed (then the next person): {exc}")
    except Exception as exc:  # reported in the RESULT
        errors.put(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


def delays(proxy, secret, people, login_user, *, tries: int, v1_tries: int) -> dict:
    """Logins alone, `tries` logins each started while a change waits on OpenBao, and
    `v1_tries` in the v1 shape; delays are against the median login alone."""
    from django.db import connection, connections, transaction

    from secrets_admin.backends import get_backend

    alone = [audited_login(login_user) for _ in range(tries)]
    # The edits run in a process of their own, as another web or Celery worker would: in this
    # process their CPU work between two backend calls (step-up check, intent, inventory write)
    # held the GIL, and a login that straddled it measured that, not the 2 s backend call.
    connections.close_all()  # the child must not share this process's connection
    context = multiprocessing.get_context("fork")
    stop, errors = context.Event(), context.Queue()
    worker = context.Process(target=_changes, args=(secret.pk, people, stop, errors))
    worker.start()
    connection.ensure_connection()  # reconnected before the first timed login, not inside it
    during = []
    while len(during) < tries and worker.is_alive():
        if proxy.in_flight == 0:
            time.sleep(0.01)
            continue
        took = audited_login(login_user)
        if proxy.in_flight:  # the change was still waiting on OpenBao when the login ended
            during.append(took)
        time.sleep(0.05)
    stop.set()
    worker.join(30)
    failures = []
    while not errors.empty():
        failures.append(errors.get())

    def v1_change():  # the v1 shape: chain lock, audit entry, then the backend call, one transaction
        with transaction.atomic(), connection.cursor() as cursor:
            _v1_lock(cursor)
            get_backend("slowbao").write_metadata(secret.path, {"purpose": "v1"})
        connection.close()

    v1 = []
    for _ in range(v1_tries):
        thread = threading.Thread(target=v1_change)
        thread.start()
        while proxy.in_flight == 0:
            time.sleep(0.005)
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            _v1_lock(cursor)  # v1's record() in the login's audit entry
            audited_login(login_user)
            v1.append(time.perf_counter() - started)
        thread.join(30)
    base = statistics.median(alone)
    return {
        "login_alone_p50_ms": round(base * 1000, 1),
        "login_alone_p95_ms": round(p95(alone) * 1000, 1),  # the login's own spread, for context
        "login_during_p95_ms": round(p95(during) * 1000, 1) if during else None,
        "login_delay_p95_ms": round((p95(during) - base) * 1000, 1) if during else None,
        "logins_during": len(during),
        "v1_login_delay_p95_ms": round((p95(v1) - base) * 1000, 1),
        "change_errors": failures[:3],
    }
